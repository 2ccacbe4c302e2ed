// Puts js/common.js's helpers on globalThis, as the joined front end has them in scope
// (common.js is a plain script today; once it exports them, import them instead).
import { readFileSync } from "node:fs";

const source = readFileSync(new URL("../common.js", import.meta.url), "utf8");
const names = ["ACTIVE", "pad", "parseUtc", "fmtDuration", "toneOf"];
// eslint-disable-next-line no-new-func
Object.assign(globalThis, new Function(`${source}\nreturn { ${names.join(", ")} };`)());
