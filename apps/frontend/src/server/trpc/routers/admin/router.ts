import { z } from "zod";
import { createTRPCRouter, superuserProcedure } from "../../init.ts";
import { addGroup, addMember, addUser, adminOverview, grantLab } from "../../../services/accounts.ts";

/** Superusers' management of users, groups and the labs each group may submit to (the /admin page). */
export const adminRouter = createTRPCRouter({
  overview: superuserProcedure.query(({ ctx }) => adminOverview(ctx.db)),
  addUser: superuserProcedure
    .input(z.object({ username: z.string().max(150), password: z.string().max(1024).optional(), superuser: z.boolean().default(false), groups: z.array(z.string().max(150)).max(50).default([]) }))
    .mutation(async ({ ctx, input }) => {
      await addUser(ctx.db, input);
      ctx.log.info({ username: input.username, superuser: input.superuser, groups: input.groups }, "admin added a user");
    }),
  addGroup: superuserProcedure.input(z.object({ name: z.string().max(150) })).mutation(async ({ ctx, input }) => {
    await addGroup(ctx.db, input.name);
    ctx.log.info({ group: input.name }, "admin added a group");
  }),
  addMember: superuserProcedure.input(z.object({ group: z.string().max(150), username: z.string().max(150) })).mutation(async ({ ctx, input }) => {
    await addMember(ctx.db, input.group, input.username);
    ctx.log.info(input, "admin added a group member");
  }),
  grantLab: superuserProcedure.input(z.object({ group: z.string().max(150), lab: z.string().max(100) })).mutation(async ({ ctx, input }) => {
    await grantLab(ctx.db, input.group, input.lab);
    ctx.log.info(input, "admin granted a lab to a group");
  }),
});
