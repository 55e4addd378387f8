import { ZAdminAddGroupInput, ZAdminAddMemberInput, ZAdminAddUserInput, ZAdminGrantLabInput } from "@magma/protocol";
import { createTRPCRouter, superuserProcedure } from "../../init.ts";
import { addGroup, addMember, addUser, adminOverview, grantLab } from "../../../services/accounts.ts";

/** Superusers' management of users, groups and the labs each group may submit to (the /admin page). */
export const adminRouter = createTRPCRouter({
  overview: superuserProcedure.query(({ ctx }) => adminOverview(ctx.db)),
  addUser: superuserProcedure
    .input(ZAdminAddUserInput)
    .mutation(async ({ ctx, input }) => {
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
});
