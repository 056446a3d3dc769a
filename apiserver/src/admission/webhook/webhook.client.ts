// Posting an AdmissionReview to a webhook over HTTPS, as kube-apiserver's REST client does:
// clientConfig.url only (a Service cannot be reached from a virtual control plane), the
// caBundle as the only trust roots (the system's when empty), `?timeout=<n>s` telling the
// webhook its deadline, and kube's wording for every way the call can fail, so that
// `failed calling webhook "<name>": …` reads as it does from kube-apiserver.

import { request } from "node:https";
import type { IncomingMessage } from "node:http";
import { WebhookCallError } from "./webhook.errors.ts";
import type { CompiledWebhook } from "./webhook.source.ts";

/** client-go caps the body text it quotes in an error at 2 KiB (maxUnstructuredResponseTextBytes). */
const maxQuotedBody = 2048;
/** A webhook answer larger than this is refused (a guard; kube has none). */
const maxBodyBytes = 32 * 1024 * 1024;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The PEM trust roots of a caBundle (base64 of PEM); undefined when empty (system roots). */
function trustRoots(caBundle: string | undefined): string | undefined {
  if (caBundle === undefined || caBundle === "") return undefined;
  const pem = Buffer.from(caBundle, "base64").toString("utf8");
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem)) {
    throw new Error("unable to load root certificates: unable to parse bytes as PEM block");
  }
  return pem;
}

/** The webhook's URL with kube's timeout parameter, or why there is no client for it. */
function target(h: CompiledWebhook): { url: URL; ca: string | undefined } {
  const cc = h.spec.clientConfig;
  if (cc.url === undefined || cc.url === "") {
    if (cc.service !== undefined) {
      throw new Error(
        `webhook service ${cc.service.namespace}/${cc.service.name} cannot be reached from a virtual control plane: set clientConfig.url instead of clientConfig.service`,
      );
    }
    throw new Error("webhook configuration must have either service or URL");
  }
  let url: URL;
  try {
    url = new URL(cc.url);
  } catch {
    throw new Error(`parse ${JSON.stringify(cc.url)}: invalid URL`);
  }
  if (url.protocol !== "https:") throw new Error(`webhook URL ${JSON.stringify(cc.url)} must use https`);
  url.searchParams.set("timeout", `${h.timeoutSeconds}s`);
  return { url, ca: trustRoots(cc.caBundle) };
}

/** Go's net/http and crypto/tls wording for Node's connection errors. */
function transportError(err: unknown, url: URL): string {
  const e = err as NodeJS.ErrnoException & {
    address?: string;
    port?: number;
    cert?: { subjectaltname?: string };
  };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  switch (e.code) {
    case "ECONNREFUSED":
      return `dial tcp ${e.address ?? host}:${e.port ?? url.port}: connect: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `dial tcp: lookup ${host}: no such host`;
    case "ECONNRESET":
      return "EOF";
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "CERT_SIGNATURE_FAILURE":
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";
    case "ERR_TLS_CERT_ALTNAME_INVALID": {
      const names = (e.cert?.subjectaltname ?? "")
        .split(", ")
        .map((n) => n.replace(/^(DNS|IP Address):/, ""))
        .filter((n) => n !== "");
      return names.length === 0
        ? `tls: failed to verify certificate: x509: certificate is not valid for any names, but wanted to match ${host}`
        : `tls: failed to verify certificate: x509: certificate is valid for ${names.join(", ")}, not ${host}`;
    }
    case undefined:
    default:
      return e.message;
  }
}

/**
 * apierrors.NewGenericServerResponse as client-go builds it for a non-2xx answer that is not a
 * failure Status: a fixed sentence per code, the body quoted only for other 5xx codes.
 */
function serverResponseMessage(code: number, body: Buffer, contentType: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body.toString("utf8"));
  } catch {
    decoded = undefined;
  }
  // A metav1.Status failure in the body is the error itself.
  if (isRecord(decoded) && decoded["status"] === "Failure" && (decoded["kind"] ?? "Status") === "Status") {
    return typeof decoded["message"] === "string" ? decoded["message"] : "";
  }
  const text = /^text\//i.test(contentType)
    ? body.subarray(0, maxQuotedBody).toString("utf8").trim()
    : "unknown";
  switch (code) {
    case 409:
      return "the server reported a conflict";
    case 404:
      return "the server could not find the requested resource";
    case 400:
      return "the server rejected our request for an unknown reason";
    case 401:
      return "the server has asked for the client to provide credentials";
    case 403:
    case 415:
      return text;
    case 406:
      return text === "" || text === "unknown"
        ? "the server was unable to respond with a content type that the client supports"
        : text;
    case 405:
      return "the server does not allow this method on the requested resource";
    case 422:
      return "the server rejected our request due to an error in our request";
    case 503:
      return "the server is currently unable to handle the request";
    case 504:
      return "the server was unable to return a response in the time allotted, but may still be processing the request";
    case 429:
      return "the server has received too many requests and has asked us to try again later";
    default:
      return code >= 500
        ? `an error on the server (${JSON.stringify(text)}) has prevented the request from succeeding`
        : `the server responded with the status code ${code} but did not return more information`;
  }
}

/** What came back: the status code, content type and body. */
interface Answer {
  readonly code: number;
  readonly contentType: string;
  readonly body: Buffer;
}

function post(url: URL, ca: string | undefined, payload: Buffer, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        ...(ca === undefined ? {} : { ca }),
        // One connection per call: nothing outlives the request (no idle sockets per tenant).
        agent: false,
        signal,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, */*",
          "Content-Length": String(payload.length),
          "User-Agent": "multiplane-apiserver-admission",
        },
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBodyBytes) {
            res.destroy(new Error(`webhook response larger than ${maxBodyBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            code: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * Posts `review` to the webhook and returns the decoded JSON answer of a 2xx response. Throws a
 * WebhookCallError (the failurePolicy decides) for anything else. Called by the mutating and
 * validating dispatchers; `review` is not changed.
 */
export async function postReview(
  h: CompiledWebhook,
  review: Record<string, unknown>,
  decode: (body: Buffer) => Record<string, unknown>,
): Promise<Record<string, unknown>> {
  let url: URL;
  let ca: string | undefined;
  try {
    ({ url, ca } = target(h));
  } catch (err) {
    throw new WebhookCallError(h.spec.name, `could not get REST client: ${(err as Error).message}`);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), h.timeoutSeconds * 1000);
  const failed = (reason: string): WebhookCallError =>
    new WebhookCallError(h.spec.name, `failed to call webhook: ${reason}`);
  let answer: Answer;
  try {
    answer = await post(url, ca, Buffer.from(JSON.stringify(review)), controller.signal);
  } catch (err) {
    const reason = controller.signal.aborted ? "context deadline exceeded" : transportError(err, url);
    throw failed(`Post ${JSON.stringify(url.href)}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
  if (answer.code < 200 || answer.code > 206) {
    throw failed(serverResponseMessage(answer.code, answer.body, answer.contentType));
  }
  try {
    return decode(answer.body);
  } catch (err) {
    throw failed((err as Error).message);
  }
}
