// Lists the longest functions of the packages' sources (tests excluded), longest first: `node scripts/long-functions.mjs
// [N]`. A function a reader can hold in their head is about a screen; declarative tables (schemas, OpenAPI, CRD
// fragments) are long by nature and are listed too, so read the list rather than failing on it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const roots = ['sdk/typescript/src', 'operator/src', 'webhook/src', 'control-plane/src', 'sidecar/src'];
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts') && !/\.test\.ts$/.test(path)) files.push(path);
  }
};
roots.forEach(walk);

const found = [];
for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      const name =
        node.name?.getText(source) ??
        (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(anonymous)');
      found.push({ lines: end - start + 1, where: `${file}:${start}`, name });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
found.sort((a, b) => b.lines - a.lines);
for (const f of found.slice(0, Number(process.argv[2] ?? 10)))
  console.log(`${String(f.lines).padStart(4)}  ${f.name}  ${f.where}`);
