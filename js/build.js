// Bundle each widget's module and stylesheet, with everything they import, into one
// file each in search_task_widget/static/ (git-ignored; the wheel carries it): anywidget
// loads a widget's front end as a single module and stylesheet, and nothing may come
// from a CDN. `node build.js --watch` rebuilds on every change (see README, Development).
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "search_task_widget", "static");
/** The widgets: a module and a stylesheet each. A new helper module needs only an import. */
const WIDGETS = ["widget", "list", "signin_widget"];

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: WIDGETS.flatMap((name) => [`${name}.js`, `${name}.css`].map((f) => join(here, f))),
  outdir,
  bundle: true,
  format: "esm",
  target: "es2022",
  charset: "utf8",
  legalComments: "none",
  // Small: a notebook saves each live front end once (sources stay readable in js/;
  // `npm run watch` builds unminified, see below).
  minify: true,
  logLevel: "warning",
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
// Every widget carries the loader itself (not bundled: see search_task_widget/_views/assets.py),
// minified like the rest: a saved notebook keeps it once per widget.
await esbuild.build({
  entryPoints: [join(here, "loader.js")],
  outdir,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
if (process.argv.includes("--watch")) {
  // Unminified while editing, with source maps: readable in the browser's debugger.
  const context = await esbuild.context({
    ...options,
    minify: false,
    sourcemap: "inline",
    logLevel: "info",
  });
  await context.watch();
} else {
  await esbuild.build(options);
}
