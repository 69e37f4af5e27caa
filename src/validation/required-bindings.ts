// Base R4 layer: the required terminology bindings the published R4 JSON schema does not enforce (Immunization.status is
// plain `code` there). The bindings, their expanded code sets and the type graph to reach them are generated from HL7's R4
// definitions by scripts/gen-r4-bindings.mjs (generated/r4/required-bindings.json); this file only walks a resource with them.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/paths.js';
import { issue, type Issue } from './outcome.js';

export const GENERATED_BINDINGS_FILE = path.join(packageRoot, 'generated', 'r4', 'required-bindings.json');

interface ElementNode {
  type: string;
  valueSet?: string;
}
export interface RequiredBindingsData {
  /** Hash of the generator's inputs (scripts/gen-r4-bindings.mjs). */
  inputHash?: string;
  source: string;
  resourceTypes: string[];
  counts: { bindings: number; enforcedBySchema: number; enforcedByBindings: number; skipped: number };
  bindings: { path: string; type: string; valueSet: string; enforcedBy: 'schema' | 'bindings' | 'skipped'; codes: number }[];
  skipped: { path: string; valueSet: string; reason: string }[];
  /** url → code → systems */
  valueSets: Record<string, Record<string, string[]>>;
  /** type name (or backbone element path) → JSON element name → its type and, when checked, its value set */
  types: Record<string, Record<string, ElementNode>>;
}

export function loadRequiredBindings(file = GENERATED_BINDINGS_FILE): RequiredBindingsData {
  if (!existsSync(file)) {
    throw new Error(`Generated FHIR R4 required bindings not found (${path.relative(packageRoot, file)}): run "npm run build" or "node scripts/gen-r4-bindings.mjs"`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as RequiredBindingsData;
}

interface CodeSet {
  name: string;
  /** code → systems it is defined in */
  codes: Map<string, ReadonlySet<string>>;
  listed: string;
}
/** One element of a type: its type, its value set when bound, and its type's own elements when a binding lies below it. */
interface Element {
  type: string;
  set?: CodeSet;
  child?: Node;
}
type Node = Map<string, Element>;

/** Deeper than this the walk stops (the structure layer already reports pathological nesting). */
const MAX_DEPTH = 64;
const MAX_LISTED = 12;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type BindingChecker = (resource: Record<string, unknown>, base: string, out: Issue[]) => void;

/** Compiles the generated data into a checker for one resource (nested resources are checked on their own, by the caller). */
export function createBindingChecker(data: RequiredBindingsData): BindingChecker {
  const sets = new Map<string, CodeSet>();
  for (const [url, codes] of Object.entries(data.valueSets)) {
    const entries = Object.entries(codes);
    const names = entries.map(([c]) => c);
    sets.set(url, {
      name: url.slice(url.lastIndexOf('/') + 1),
      codes: new Map(entries.map(([c, systems]) => [c, new Set(systems)])),
      listed: names.slice(0, MAX_LISTED).join(', ') + (names.length > MAX_LISTED ? ', ...' : ''),
    });
  }
  // Only types with a binding somewhere below them are walked: an element whose subtree holds no binding can never report, so it is
  // left out of its parent's map (a Reference, Narrative or Meta is then skipped at one Map lookup instead of walked).
  const live = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [typeName, elements] of Object.entries(data.types)) {
      if (!live.has(typeName) && Object.values(elements).some((e) => e.valueSet !== undefined || live.has(e.type))) {
        live.add(typeName);
        grew = true;
      }
    }
  }
  const nodes = new Map<string, Node>();
  for (const typeName of Object.keys(data.types)) if (live.has(typeName)) nodes.set(typeName, new Map());
  for (const [typeName, elements] of Object.entries(data.types)) {
    const node = nodes.get(typeName);
    if (!node) continue;
    for (const [k, e] of Object.entries(elements)) {
      const set = e.valueSet ? sets.get(e.valueSet) : undefined;
      const child = nodes.get(e.type);
      if (set || child) node.set(k, { type: e.type, set, child });
    }
  }

  const report = (out: Issue[], set: CodeSet, at: string, what: string) =>
    // Never the value itself: a code element may carry anything an operator typed.
    out.push(issue('error', 'code-invalid', `${what} not in the value set ${set.name} that FHIR R4 binds here as required: must be one of ${set.listed}`, at));

  /** `at`: the path below the resource as keys and array indexes, made a FHIRPath only when an issue is reported: most walks report none. */
  function checkValue(v: unknown, type: string, set: CodeSet, base: string, at: Array<string | number>, out: Issue[]): void {
    if (type === 'code') {
      if (typeof v === 'string' && !set.codes.has(v)) report(out, set, location(base, at), 'Code');
    } else if (type === 'Coding') {
      if (isObj(v) && !codingIn(v, set)) report(out, set, location(base, at), 'Coding');
    } else if (type === 'CodeableConcept') {
      // Required: one coding must come from the value set (text alone, or only other systems, is not enough).
      if (isObj(v) && !(Array.isArray(v.coding) && v.coding.some((c) => isObj(c) && codingIn(c, set)))) report(out, set, location(base, at), 'No coding');
    }
  }

  function visit(x: unknown, el: Element, base: string, at: Array<string | number>, out: Issue[], depth: number): void {
    if (el.set) checkValue(x, el.type, el.set, base, at, out);
    if (el.child && isObj(x)) walk(x, el.child, base, at, out, depth + 1);
  }

  function walk(v: Record<string, unknown>, node: Node, base: string, at: Array<string | number>, out: Issue[], depth: number): void {
    if (depth > MAX_DEPTH) return;
    for (const key in v) {
      const el = node.get(key);
      if (!el) continue;
      const x = v[key];
      at.push(key);
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length; i++) {
          at.push(i);
          visit(x[i], el, base, at, out, depth);
          at.pop();
        }
      } else visit(x, el, base, at, out, depth);
      at.pop();
    }
  }

  return (resource, base, out) => {
    const node = typeof resource.resourceType === 'string' ? nodes.get(resource.resourceType) : undefined;
    if (node) walk(resource, node, base, [], out, 0);
  };
}

/** `Immunization` + [`status`] → `Immunization.status`; [`coding`, 2] → `.coding[2]`. */
function location(base: string, at: ReadonlyArray<string | number>): string {
  let out = base;
  for (const seg of at) out += typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
  return out;
}

function codingIn(c: Record<string, unknown>, set: CodeSet): boolean {
  if (typeof c.code !== 'string') return false;
  const systems = set.codes.get(c.code);
  return systems !== undefined && typeof c.system === 'string' && systems.has(c.system);
}
