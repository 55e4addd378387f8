// Boundary rules of the monorepo: dependencies point
// protocol ← db ← apps, the worker never touches a database, apps never import each other, and only
// an app's env.ts reads process.env; shapes that cross a process boundary are zod schemas in
// packages/protocol (routes and clients declare none of their own); control characters in a regex
// are deliberate exceptions.
// Style is left to the compiler (strict TypeScript).
import tseslint from "typescript-eslint";

const app = (name) => [`**/apps/${name}/**`, `@magma/${name}`, `@magma/${name}/*`];
const banImports = (groups, message, ...more) => ({
  "no-restricted-imports": [
    "error",
    { patterns: [{ group: groups.flat(), message }, ...more.map(([g, m]) => ({ group: g.flat(), message: m }))] },
  ],
});

const envOnly = {
  selector: "MemberExpression[object.name='process'][property.name='env']",
  message: "Read configuration in this app's env.ts only: one parsed, validated place per app.",
};
const noAdHocSchema = {
  selector: "CallExpression[callee.object.name='z'][callee.property.name=/^(object|strictObject|looseObject)$/]",
  message: "A shape that crosses a process boundary is one zod schema in packages/protocol: import it instead of declaring z.object here.",
};
// HTTP routes, tRPC routers, XML-RPC handlers and HTTP clients: what they parse or send crosses a process boundary
const boundaryFiles = [
  "apps/*/src/http/**/*.{ts,tsx}",
  "apps/*/src/xmlrpc/**/*.{ts,tsx}",
  "apps/frontend/src/app/**/*.{ts,tsx}",
  "apps/frontend/src/server/trpc/**/*.{ts,tsx}",
  "apps/frontend/src/server/http/**/*.{ts,tsx}",
  "apps/**/src/**/*-client.ts",
];

const workerBans = [["@magma/db", "@magma/db/*", "**/packages/db/**"], app("instance"), app("frontend")];
const workerBansWhy = "The worker has no database and talks to its instance over HTTP only (like lava-worker).";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/.next/**",
      "**/dist/**",
      "**/src/generated/**",
      "**/test-results/**",
      ".magma/**",
      "**/next-env.d.ts",
    ],
  },
  {
    files: ["**/*.{ts,tsx,js,mjs}"],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: "module" },
    // a disable comment must suppress something real, so every one marks a deliberate exception
    linterOptions: { reportUnusedDisableDirectives: "error" },
    // DUT output is full of control bytes; a regex matching them must say so with a disable comment
    rules: { "no-control-regex": "error" },
  },
  {
    files: ["packages/protocol/**/*.{ts,tsx}"],
    rules: banImports(
      [["@magma/db", "@magma/db/*"], app("instance"), app("worker"), app("frontend"), ["**/packages/db/**"]],
      "packages/protocol imports zod, yaml and small pure libraries (shell-quote, re2js) only: no database, no app.",
    ),
  },
  {
    files: ["packages/db/**/*.{ts,tsx}"],
    rules: banImports([app("instance"), app("worker"), app("frontend")], "packages/db may import @magma/protocol only, never an app."),
  },
  {
    files: ["apps/worker/**/*.{ts,tsx}"],
    rules: banImports(workerBans, workerBansWhy),
  },
  {
    // the worker's lower layers (console links, power commands, TFTP/HTTP servers) know nothing of
    // jobs: errors and command masking live at the worker root, actions in dispatcher/
    files: ["apps/worker/src/{connections,power,services}/**/*.{ts,tsx}"],
    rules: banImports(workerBans, workerBansWhy, [
      [["**/dispatcher", "**/dispatcher/**", "**/daemon", "**/daemon/**", "**/job-runner.ts", "**/log-shipper.ts"]],
      "connections/, power/ and services/ may not import the dispatcher, the daemon or the job runner: they are the layers those build on (LAVA's lava_dispatcher/connections and power helpers know no pipeline).",
    ]),
  },
  {
    files: ["apps/instance/**/*.{ts,tsx}"],
    rules: banImports(
      [app("worker"), app("frontend"), ["@magma/db/frontend"]],
      "The instance talks to workers and the frontend over HTTP only, and owns only the instance database.",
    ),
  },
  {
    files: ["apps/frontend/**/*.{ts,tsx}"],
    rules: banImports(
      [app("instance"), app("worker"), ["@magma/db/instance"]],
      "The frontend talks to instances over HTTP only, and owns only the frontend database.",
    ),
  },
  {
    // only env.ts reads configuration (tests, test helpers and infra scripts may read their own)
    files: ["apps/**/src/**/*.{ts,tsx}", "packages/**/src/**/*.{ts,tsx}"],
    ignores: ["**/env.ts", "**/*.test.ts", "**/testing/**", "apps/frontend/src/instrumentation.ts"],
    rules: { "no-restricted-syntax": ["error", envOnly] },
  },
  {
    files: boundaryFiles,
    ignores: ["**/*.test.ts", "**/testing/**"],
    rules: { "no-restricted-syntax": ["error", envOnly, noAdHocSchema] },
  },
);
