// @ts-check
// Which sign-in links the panel may follow (js/signin.js). Run with `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { signInSafeUrl } from "../signin.js";

test("only an absolute https URL becomes a link", () => {
  const good = "https://auth.globus.org/v2/oauth2/authorize?client_id=x&scope=a%20b";
  assert.equal(signInSafeUrl(good), good);
  for (const url of [
    "javascript:window.__pwned=1",
    "JavaScript:window.__pwned=1",
    " javascript:window.__pwned=1",
    "http://auth.globus.org/v2/oauth2/authorize?client_id=x",
    "data:text/html,<script>window.__pwned=1</script>",
    "//auth.globus.org/v2/oauth2/authorize",
    "/v2/oauth2/authorize",
    "not a url",
    "",
  ]) {
    assert.equal(signInSafeUrl(url), null, url);
  }
});
