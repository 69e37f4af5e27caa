// Static scan for plain-object lookups keyed by a run-time string: `table[key]` and `key in table` where `key` has the wide type
// `string` (not a literal union, not a number) and `table` is a string-indexed object type (Record<string, T>, an index signature).
// On a plain object such a lookup finds the prototype's members: `constructor`, `toString`, `__proto__`, `hasOwnProperty` … pass as
// entries. Arrays, tuples, typed arrays and Maps are not flagged (numeric or method access), nor keys typed as a literal union.
import path from 'node:path';
import ts from 'typescript';

export interface LookupHit {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  line: number;
  /** The lookup's source text, e.g. `facility.locations[code]` or `code in table`. */
  text: string;
}

const STRING_LIKE = ts.TypeFlags.String | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.TemplateLiteral | ts.TypeFlags.StringMapping;

/** True when the key's type can hold an arbitrary string (so also `constructor`). */
function isWideString(checker: ts.TypeChecker, t: ts.Type): boolean {
  if (t.isUnion()) return t.types.some((u) => isWideString(checker, u));
  return (t.flags & STRING_LIKE) !== 0;
}

/** True when `t` is an object type looked up by string keys (an index signature), not an array or tuple. */
function isStringIndexed(checker: ts.TypeChecker, t: ts.Type): boolean {
  const types = t.isUnion() ? t.types : [t];
  return types.some((u) => {
    if (checker.isArrayType(u) || checker.isTupleType(u)) return false;
    return checker.getIndexInfoOfType(u, ts.IndexKind.String) !== undefined;
  });
}

/** True when `key` is the variable of a loop over the own keys of the very object indexed (`for (k in o) o[k]`,
 *  `for (const k of Object.keys(o)) o[k]`, `for (const [k] of Object.entries(o)) o[k]`): the key is then one the object holds. */
function isOwnKeyOfSameObject(checker: ts.TypeChecker, key: ts.Expression, object: ts.Expression, sf: ts.SourceFile): boolean {
  if (!ts.isIdentifier(key)) return false;
  const decl = checker.getSymbolAtLocation(key)?.valueDeclaration;
  if (!decl) return false;
  let d: ts.Node = decl;
  while (ts.isBindingElement(d) || ts.isArrayBindingPattern(d)) d = d.parent;
  if (!ts.isVariableDeclaration(d) || !ts.isVariableDeclarationList(d.parent)) return false;
  const loop = d.parent.parent;
  const same = (e: ts.Expression) => e.getText(sf) === object.getText(sf);
  if (ts.isForInStatement(loop)) return same(loop.expression);
  if (!ts.isForOfStatement(loop) || !ts.isCallExpression(loop.expression)) return false;
  const callee = loop.expression.expression.getText(sf);
  const arg = loop.expression.arguments[0];
  if (!arg || !same(arg)) return false;
  return callee === 'Object.keys' || (callee === 'Object.entries' && ts.isArrayBindingPattern(decl.parent) && decl.parent.elements[0] === decl);
}

/** Writes are always reported: `o[k] = v` with k = `__proto__` replaces the prototype of a plain object. */
const isWrite = (node: ts.Node) => ts.isBinaryExpression(node.parent) && node.parent.left === node && node.parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && node.parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment;

/** Every plain-object lookup by a wide string key in the TypeScript files under `paths` (directories or files, relative to `root`). */
export function scanPlainObjectLookups(root: string, paths: string[]): LookupHit[] {
  const config = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const wanted = paths.map((d) => path.join(root, d));
  const files = parsed.fileNames.filter((f) => wanted.some((w) => path.resolve(f) === w || path.resolve(f).startsWith(w + path.sep)));
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const hits: LookupHit[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!files.includes(sf.fileName)) continue;
    const record = (node: ts.Node) => {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      hits.push({ file: path.relative(root, sf.fileName).split(path.sep).join('/'), line: line + 1, text: node.getText(sf).replace(/\s+/g, ' ') });
    };
    const visit = (node: ts.Node) => {
      if (ts.isElementAccessExpression(node) && !ts.isStringLiteralLike(node.argumentExpression) && !ts.isNumericLiteral(node.argumentExpression)) {
        const keyType = checker.getTypeAtLocation(node.argumentExpression);
        if (isWideString(checker, keyType) && isStringIndexed(checker, checker.getTypeAtLocation(node.expression))
          && (isWrite(node) || !isOwnKeyOfSameObject(checker, node.argumentExpression, node.expression, sf))) record(node);
      } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.InKeyword && !ts.isStringLiteralLike(node.left)) {
        if (isWideString(checker, checker.getTypeAtLocation(node.left)) && isStringIndexed(checker, checker.getTypeAtLocation(node.right))) record(node);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return hits;
}
