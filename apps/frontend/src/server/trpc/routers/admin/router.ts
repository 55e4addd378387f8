import {
  ZAdminAddGroupInput,
  ZAdminAddLabInput,
  ZAdminLabRef,
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
import { addLab, enrollLab, listLabs, removeLab } from "../../../services/labs.ts";

/** Superusers' management of users, groups and the labs each group may submit to (the /admin page). */
export const adminRouter = createTRPCRouter({
  overview: superuserProcedure.query(({ ctx }) => adminOverview(ctx.db)),
  /** Managed labs (as `npm run labs -- list`). */
  labs: superuserProcedure.query(({ ctx }) => listLabs(ctx.db)),
  /** Adds a lab by URL; the answer carries the lab-side callback token/secret, shown once. */
  addLab: superuserProcedure.input(ZAdminAddLabInput).mutation(async ({ ctx, input }) => {
    const r = await addLab(ctx.db, { ...input, callbackToken: input.callbackToken || null });
    ctx.log.info({ lab: input.name, kind: input.kind, url: r.lab.url }, "admin added a lab");
    return r;
  }),
  /** Issues a one-time enrollment token for an outbound-only lab, shown once. */
  enrollLab: superuserProcedure.input(ZAdminLabRef).mutation(async ({ ctx, input }) => {
    const r = await enrollLab(ctx.db, input.name);
    ctx.log.info({ lab: input.name }, "admin issued an enrollment token");
    return r;
  }),
  removeLab: superuserProcedure.input(ZAdminLabRef).mutation(async ({ ctx, input }) => {
    await removeLab(ctx.db, input.name);
    ctx.log.info({ lab: input.name }, "admin removed a lab");
  }),
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
