import {
  ZAdminAddGroupInput,
  ZAdminAddMemberInput,
  ZAdminAddUserInput,
  ZAdminGrantLabInput,
  ZAdminSetSuperuserInput,
  ZAdminUserRef,
} from "@magma/protocol";
import { AppError } from "../../../app-error.ts";
import { createTRPCRouter, superuserProcedure } from "../../init.ts";
import {
  addGroup,
  addMember,
  addUser,
  adminOverview,
  grantLab,
  removeMember,
  removeUser,
  revokeLab,
  setSuperuser,
} from "../../../services/accounts.ts";

/** Superusers' management of users, groups and the labs each group may submit to (the /admin page). */
export const adminRouter = createTRPCRouter({
  overview: superuserProcedure.query(({ ctx }) => adminOverview(ctx.db)),
  addUser: superuserProcedure.input(ZAdminAddUserInput).mutation(async ({ ctx, input }) => {
    await addUser(ctx.db, input);
    ctx.log.info({ username: input.username, superuser: input.superuser, groups: input.groups }, "admin added a user");
  }),
  addGroup: superuserProcedure.input(ZAdminAddGroupInput).mutation(async ({ ctx, input }) => {
    await addGroup(ctx.db, input.name);
    ctx.log.info({ group: input.name }, "admin added a group");
  }),
  addMember: superuserProcedure.input(ZAdminAddMemberInput).mutation(async ({ ctx, input }) => {
    await addMember(ctx.db, input.group, input.username);
    ctx.log.info(input, "admin added a group member");
  }),
  grantLab: superuserProcedure.input(ZAdminGrantLabInput).mutation(async ({ ctx, input }) => {
    await grantLab(ctx.db, input.group, input.lab);
    ctx.log.info(input, "admin granted a lab to a group");
  }),
  revokeLab: superuserProcedure.input(ZAdminGrantLabInput).mutation(async ({ ctx, input }) => {
    await revokeLab(ctx.db, input.group, input.lab);
    ctx.log.info(input, "admin revoked a group's lab");
  }),
  removeMember: superuserProcedure.input(ZAdminAddMemberInput).mutation(async ({ ctx, input }) => {
    await removeMember(ctx.db, input.group, input.username);
    ctx.log.info(input, "admin removed a group member");
  }),
  /** Deletes a user (not oneself: a superuser cannot lock the last door behind them by accident). */
  removeUser: superuserProcedure.input(ZAdminUserRef).mutation(async ({ ctx, input }) => {
    if (input.username === ctx.user.username)
      throw new AppError("INVALID_REQUEST", { message: "You cannot delete your own account; ask another superuser" });
    await removeUser(ctx.db, input.username);
    ctx.log.info(input, "admin deleted a user");
  }),
  setSuperuser: superuserProcedure.input(ZAdminSetSuperuserInput).mutation(async ({ ctx, input }) => {
    if (input.username === ctx.user.username && !input.superuser)
      throw new AppError("INVALID_REQUEST", { message: "You cannot drop your own superuser status; ask another superuser" });
    await setSuperuser(ctx.db, input.username, input.superuser);
    ctx.log.info(input, "admin changed a user's superuser status");
  }),
});
