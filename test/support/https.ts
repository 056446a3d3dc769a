// Raw HTTPS requests to a test server (for what kubectl cannot send: spoofed headers, chosen
// client certificates, bodies with no credentials).

import { request as httpsRequest } from "node:https";

export interface RawResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export function rawRequest(
  baseUrl: string,
  caPem: string,
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    cert?: { certPem: string; keyPem: string };
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, baseUrl),
      {
        method: opts.method ?? "GET",
        ca: caPem,
        headers: opts.headers ?? {},
        ...(opts.cert ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}
