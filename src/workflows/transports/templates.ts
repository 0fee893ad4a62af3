/**
 * Email templates: LiquidJS, strict (SPEC.md, "Email step"). An undefined variable or filter
 * fails the render with TemplateError naming it: a message never goes out with a blank
 * where a name should be. Only `| default:` and `{% if %}` may look at a variable that may
 * be missing (liquidjs `lenientIf`): that is the author saying "this may be absent".
 *
 * Escaping: `html` templates HTML-escape every `{{ output }}` (contact and event values are
 * client data; `| raw` opts out where a value is meant as markup). `text` templates, subjects
 * included, are not escaped: they are not HTML, and `&amp;` in a subject line is a bug. (Do
 * not add `| escape` in html templates: it would escape twice.)
 */
import { Liquid, type Template } from 'liquidjs';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  /** The undefined variable's path (`contact.firstName`), when that is the failure. */
  readonly variable?: string;
  constructor(message: string, variable?: string) {
    super(message);
    if (variable !== undefined) this.variable = variable;
  }
}

export interface TemplateVars {
  contact: object;
  /** The triggering event in the read API's shape; null for a segment-triggered run. */
  event: object | null;
  workflow: { id: string; name: string };
}

const LIMITS = {
  // A template is authored text, not a document: 100k characters is plenty.
  parseLimit: 100_000,
  // Time and memory one render may take: a `{% for %}` over a huge range fails, not hangs.
  renderLimit: 1000,
  memoryLimit: 10_000_000,
};

function engine(mode: 'html' | 'text'): Liquid {
  return new Liquid({
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    ...(mode === 'html' ? { outputEscape: 'escape' as const } : {}),
    ...LIMITS,
  });
}

const ENGINES = { html: engine('html'), text: engine('text') };

/** Parsed templates by mode and source: most recent CACHE_SIZE, evicted oldest first. */
const CACHE_SIZE = 500;
const cache = new Map<string, Template[]>();

function parsed(template: string, mode: 'html' | 'text'): Template[] {
  const key = `${mode}\0${template}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let tpl: Template[];
  try {
    tpl = ENGINES[mode].parse(template);
  } catch (err) {
    throw new TemplateError(messageOf(err));
  }
  cache.set(key, tpl);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return tpl;
}

function messageOf(err: unknown): string {
  return (err as { message?: string })?.message ?? String(err);
}

/** `undefined variable: contact.firstName` → `contact.firstName`, from liquidjs' error or its cause. */
function undefinedVariable(err: unknown): string | undefined {
  for (let e = err, i = 0; e && i < 4; e = (e as { originalError?: unknown }).originalError, i++) {
    const m = /undefined variable: ([^,\s]+)/.exec(messageOf(e));
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Renders with strictVariables + strictFilters: an undefined variable throws TemplateError
 * naming it (never renders blanks). `html` escapes outputs, `text` does not (see above).
 * With no triggering event, `event` is absent, so `{{ event.x }}` fails rather than render blank.
 */
export async function renderTemplate(template: string, vars: TemplateVars, mode: 'html' | 'text'): Promise<string> {
  const tpl = parsed(template, mode);
  const scope: Record<string, unknown> = { contact: vars.contact, workflow: vars.workflow };
  if (vars.event !== null) scope.event = vars.event;
  try {
    return await ENGINES[mode].render(tpl, scope);
  } catch (err) {
    const variable = undefinedVariable(err);
    if (variable) throw new TemplateError(`undefined variable ${variable}`, variable);
    throw new TemplateError(messageOf(err));
  }
}

/** Validates at workflow create time (syntax errors, unknown filters → message), no rendering. */
export function checkTemplate(template: string): string | null {
  try {
    parsed(template, 'text');
    return null;
  } catch (err) {
    return messageOf(err);
  }
}
