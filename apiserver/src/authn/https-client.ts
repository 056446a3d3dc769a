// The one HTTPS client of the authenticators (OIDC discovery and keys, the TokenReview
// webhook): node:https with a configured CA bundle and optional client certificate, a
// deadline, a size limit, no redirects followed. Node 20's global fetch cannot take a CA
// without undici's Agent, which is not a dependency.

import { request } from "node:https";
import type { IncomingHttpHeaders } from "node:http";

export interface HttpsRequest {
  readonly method: "GET" | "POST";
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** PEM CA bundle the server must chain to; Node's default roots when absent. */
  readonly ca?: string;
  /** PEM client certificate and key, when the server wants one. */
  readonly cert?: string;
  readonly key?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** The largest response body taken (default 4 MiB). */
  readonly maxBytes?: number;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One HTTPS request. Rejects on transport errors, on the deadline and on an oversized body. */
export function httpsRequest(url: string, req: HttpsRequest): Promise<HttpsResponse> {
  const target = new URL(url);
  if (target.protocol !== "https:") return Promise.reject(new Error(`${url}: only https URLs are allowed`));
  const maxBytes = req.maxBytes ?? 4 << 20;
  return new Promise<HttpsResponse>((resolve, reject) => {
    const r = request(
      target,
      {
        method: req.method,
        headers: req.headers ?? {},
        ...(req.ca === undefined ? {} : { ca: req.ca }),
        ...(req.cert === undefined ? {} : { cert: req.cert }),
        ...(req.key === undefined ? {} : { key: req.key }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            r.destroy(new Error(`${url}: response larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(
      () => r.destroy(new Error(`${url}: no answer within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    r.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    r.end(req.body);
  });
}
