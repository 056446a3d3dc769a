// Static bearer tokens from a CSV file, as kube-apiserver's --token-auth-file:
//   token,user,uid,"group1,group2"

import { readFileSync } from "node:fs";
import { bearerToken, type AuthRequest, type Authenticator, type UserInfo } from "./user.ts";

/** Splits one CSV line, honouring double quotes (a quoted field may hold commas). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

export function parseTokenFile(text: string): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const [token, name, uid, groups] = splitCsv(line);
    if (!token || !name) throw new Error(`token file line ${i + 1}: needs at least token and user`);
    tokens.set(token, {
      name,
      uid: uid ?? "",
      groups: (groups ?? "")
        .split(",")
        .map((g) => g.trim())
        .filter(Boolean),
      extra: {},
    });
  });
  return tokens;
}

export class TokenFileAuthenticator implements Authenticator {
  constructor(private readonly tokens: ReadonlyMap<string, UserInfo>) {}

  static fromFile(path: string): TokenFileAuthenticator {
    return new TokenFileAuthenticator(parseTokenFile(readFileSync(path, "utf8")));
  }

  authenticate(req: AuthRequest): Promise<UserInfo | null> {
    const token = bearerToken(req);
    const user = token === undefined ? undefined : this.tokens.get(token);
    // Authenticated users also belong to system:authenticated.
    return Promise.resolve(
      user === undefined
        ? null
        : {
            ...user,
            groups: user.groups.includes("system:authenticated")
              ? user.groups
              : [...user.groups, "system:authenticated"],
          },
    );
  }
}
