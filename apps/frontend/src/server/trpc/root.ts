import { createCallerFactory, createTRPCRouter } from "./init.ts";
import { labsRouter } from "./routers/labs/router.ts";
import { jobsRouter } from "./routers/jobs/router.ts";
import { resultsRouter } from "./routers/results/router.ts";
import { submissionsRouter } from "./routers/submissions/router.ts";
import { authRouter } from "./routers/auth/router.ts";
import { adminRouter } from "./routers/admin/router.ts";
import { buildsRouter } from "./routers/builds/router.ts";

export const appRouter = createTRPCRouter({
  labs: labsRouter,
  jobs: jobsRouter,
  results: resultsRouter,
  submissions: submissionsRouter,
  auth: authRouter,
  admin: adminRouter,
  builds: buildsRouter,
});
export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
