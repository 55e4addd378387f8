import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

/** One request a {@link startReceiver} server got, with the status it answered. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A real local HTTP callback receiver on port 0; `respond(request, nth)` decides each answer's status. */
export function startReceiver(respond: (r: Omit<Received, "status">, n: number) => number = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body };
      const status = respond(r, received.filter((x) => x.url === r.url).length);
      received.push({ ...r, status });
      res.writeHead(status).end();
    });
  });
  return new Promise<{ server: Server; url: string; received: Received[]; close(): Promise<void> }>((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`,
        received,
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}
