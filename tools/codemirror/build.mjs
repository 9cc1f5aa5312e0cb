// Bundles entry.mjs into src/service/web/vendor/codemirror.js (one minified IIFE that sets
// `window.CM`) and writes the licences of every package in it to vendor/LICENSES.txt.
// Run by hand after changing the dependencies: `npm ci && npm run build`. cargo never runs it.
import { build } from "esbuild";
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../src/service/web/vendor");
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "entry.mjs")],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "CM",
  target: ["es2020"],
  legalComments: "none",
  metafile: true,
  write: false,
  banner: {
    js: "/* CodeMirror 6 (MIT), bundled by tools/codemirror for triage; licences: LICENSES.txt beside this file. */",
  },
});

// The packages whose code is in the bundle (esbuild read more, and shook some of it out).
const packages = new Map();
const [output] = Object.values(result.metafile.outputs);
for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
  if (bytesInOutput === 0) continue;
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (!m) continue;
  const dir = join(here, "node_modules", m[1]);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  packages.set(m[1], { dir, version: pkg.version, license: pkg.license });
}

let licences =
  "The licences of the packages bundled into codemirror.js (made by tools/codemirror/build.mjs).\n";
for (const [name, { dir, version, license }] of [...packages].sort()) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `(${license}; no licence file in the package)`;
  licences += `\n${"=".repeat(72)}\n${name} ${version} (${license})\n${"=".repeat(72)}\n\n${text}\n`;
}

const js = result.outputFiles[0].text;
writeFileSync(join(out, "codemirror.js"), js);
writeFileSync(join(out, "LICENSES.txt"), licences);
console.log(
  `codemirror.js: ${(js.length / 1024).toFixed(1)} KiB, ${packages.size} packages: ${[...packages.keys()].sort().join(", ")}`,
);
