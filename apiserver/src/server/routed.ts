// A request the router hands to a shard in its own process (`multiplane up`) without a network
// hop: what the router would have sent over mTLS (path, forwarded headers, its client
// certificate), turned into what the chain reads of a request off the network. The shard's
// authenticators judge it exactly as over the network: the identity headers count only because
// the router's certificate chains to the requestheader CA with an allowed name.

import type { X509Certificate } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { badRequest, requestEntityTooLarge } from "../apierrors/status.ts";
import type { ChainRequest } from "./chain.ts";

/** What the router sends upstream, minus the network. Read only. */
export interface RoutedRequest {
  /** The upstream path and query: `/clusters/<tenant>/…`. */
  readonly url: string;
  /** The forwarded headers (forward-headers.ts): client identity headers already replaced. */
  readonly headers: OutgoingHttpHeaders;
  /** The certificate chain the router presents to shards, leaf first. */
  readonly peerCertificates: X509Certificate[];
}

/**
 * The shard's entry for routed requests (server.ts): reads the body from `client` and answers
 * on `res`; settles when the exchange is over (a watch: when it ends). Never rejects.
 */
export type ServeRouted = (
  client: IncomingMessage,
  res: ServerResponse,
  routed: RoutedRequest,
) => Promise<void>;

/** The methods the shard's HTTP server routes to the chain (others are not handed over). */
export const routedMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

/** Headers of which Node's HTTP parser keeps only the first value (`_http_incoming`'s list). */
const singleValued = new Set([
  "age",
  "authorization",
  "content-length",
  "content-type",
  "etag",
  "expires",
  "from",
  "host",
  "if-modified-since",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "referer",
  "retry-after",
  "server",
  "user-agent",
]);

/**
 * The headers as a shard's HTTP parser would present them had they come over the wire:
 * `headers` with Node's folding of repeated values, and every value apart in `headersDistinct`.
 * Pure.
 */
export function receivedHeaders(sent: OutgoingHttpHeaders): {
  headers: IncomingHttpHeaders;
  headersDistinct: Record<string, string[]>;
} {
  const headers: IncomingHttpHeaders = {};
  const headersDistinct: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(sent)) {
    if (value === undefined) continue;
    const n = name.toLowerCase();
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    if (values.length === 0) continue;
    headersDistinct[n] = values;
    if (n === "set-cookie") headers[n] = values;
    else if (singleValued.has(n)) headers[n] = values[0];
    else headers[n] = values.join(n === "cookie" ? "; " : ", ");
  }
  return { headers, headersDistinct };
}

/**
 * The request body as the shard's server reads it (fastify's rules): none for GET and HEAD or
 * when the request announces none, else every byte; a 413 StatusError past `limit`, and a
 * 400 when its length disagrees with Content-Length, an error when the client's stream breaks or
 * closes before its end.
 */
export function readBody(
  client: IncomingMessage,
  method: string,
  headers: IncomingHttpHeaders,
  limit: number,
): Promise<Buffer | undefined> {
  const length = headers["content-length"];
  const announcesNone =
    headers["content-type"] === undefined &&
    headers["transfer-encoding"] === undefined &&
    (length === undefined || length === "0");
  if (method === "GET" || method === "HEAD" || announcesNone) return Promise.resolve(undefined);
  const tooLarge = () => requestEntityTooLarge(`Request entity too large: limit is ${limit}`);
  if (Number(length) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      client.off("data", onData);
      client.off("end", onEnd);
      client.off("error", onError);
      client.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      if (length !== undefined && Number(length) !== received)
        reject(badRequest("Request body size did not match Content-Length"));
      else resolve(Buffer.concat(chunks, received));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    // Closed before its end without an error (the client went away): nobody waits for an answer.
    const onClose = (): void => onError(new Error("the client closed the connection before the body's end"));
    client.on("data", onData);
    client.on("end", onEnd);
    client.on("error", onError);
    client.on("close", onClose);
  });
}

/** The chain's view of a routed request; `client` gives the address. */
export function routedChainRequest(client: IncomingMessage, routed: RoutedRequest): ChainRequest {
  const { headers, headersDistinct } = receivedHeaders(routed.headers);
  return {
    method: client.method ?? "GET",
    url: routed.url,
    headers,
    headersDistinct,
    remoteAddress: client.socket.remoteAddress,
    peerCertificates: () => routed.peerCertificates,
  };
}
