import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeBase64Std, goUnmarshalIntoMapError } from "./go-encoding.ts";

describe("base64 as Go's StdEncoding", () => {
  const cases: [string, string, number | string][] = [
    ["padded", "aGVsbG8=", 5],
    ["empty", "", 0],
    ["newlines skipped", "aGVs\nbG8=\r\n", 5],
    ["missing padding", "aGVsbG8", "illegal base64 data at input byte 4"],
    ["bad character", "!!!!", "illegal base64 data at input byte 0"],
    ["data after padding", "YQ==YQ==", "illegal base64 data at input byte 4"],
    ["lone padding", "=", "illegal base64 data at input byte 0"],
    ["url alphabet", "a-_b", "illegal base64 data at input byte 1"],
  ];
  for (const [name, input, want] of cases) {
    test(name, () => {
      const r = decodeBase64Std(input);
      assert.deepEqual(r.ok ? r.bytes.length : r.error, want);
    });
  }
});

describe("json.Unmarshal into map[string]interface{}", () => {
  const into = "into Go value of type map[string]interface {}";
  const cases: [string, string, string | undefined][] = [
    ["object", '{"auths":{}}', undefined],
    ["null", "null", undefined],
    ["truncated", '{"a":', "unexpected end of JSON input"],
    ["empty", "", "unexpected end of JSON input"],
    ["bare key", "{a}", "invalid character 'a' looking for beginning of object key string"],
    ["missing colon", '{"a" 1}', "invalid character '1' after object key"],
    ["trailing garbage", '{"a":1}x', "invalid character 'x' after top-level value"],
    ["bad literal", '{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ["literal cut short", "nul", "invalid character ' ' in literal null (expecting 'l')"],
    ["array", "[]", `json: cannot unmarshal array ${into}`],
    ["number", " 12", `json: cannot unmarshal number ${into}`],
    ["quote in context", '{"a":1,}', "invalid character '}' looking for beginning of object key string"],
  ];
  for (const [name, input, want] of cases) {
    test(name, () => assert.equal(goUnmarshalIntoMapError(Buffer.from(input)), want));
  }
});
