/**
 * Ultralytics writes a detector's class names into ONNX metadata as `str(dict)`, a Python dict
 * literal such as `{0: 'red_light', 1: "it's"}`. This parses that literal (and a plain list,
 * which older exporters write) without evaluating anything.
 */

export class ClassNamesSyntaxError extends Error {
  override name = 'ClassNamesSyntaxError';
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
};

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    const at = this.pos < this.text.length ? `at character ${this.pos + 1}` : 'at the end';
    throw new ClassNamesSyntaxError(`${what} ${at}`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  integer(): number {
    this.skipSpace();
    const m = /^[0-9]+/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected a class index (a non-negative integer)');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** A Python str literal in ' or " quotes, with Python's escapes (repr() only writes \\ \' \n \r \t \xhh \uhhhh \Uhhhhhhhh). */
  string(): string {
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') this.fail('expected a quoted class name');
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated class name');
      const ch = this.text[this.pos++];
      if (ch === quote) return out;
      if (ch === '\n') this.fail('line break inside a class name');
      if (ch !== '\\') { out += ch; continue; }
      const e = this.text[this.pos++] ?? '';
      if (e in SIMPLE_ESCAPES) { out += SIMPLE_ESCAPES[e]; continue; }
      const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hexLen) {
        const hex = this.text.slice(this.pos, this.pos + hexLen);
        const code = parseInt(hex, 16);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex) || code > 0x10ffff) {
          this.pos -= 2; // point at the backslash
          this.fail(`bad \\${e} escape`);
        }
        out += String.fromCodePoint(code);
        this.pos += hexLen;
        continue;
      }
      const oct = /^[0-7]{1,3}/.exec(this.text.slice(this.pos - 1, this.pos + 2));
      if (oct) {
        out += String.fromCharCode(parseInt(oct[0], 8));
        this.pos += oct[0].length - 1;
        continue;
      }
      out += `\\${e}`; // Python keeps unknown escapes as written
    }
  }
}

/** Class names in output order from `{0: 'a', 1: 'b'}` or `['a', 'b']`; indices must be 0..n-1, names unique and non-empty. */
export function parseClassNames(text: string): string[] {
  const r = new Reader(text);
  const byIndex = new Map<number, string>();
  const open = r.peek();
  if (open === '[') {
    r.pos++;
    while (r.peek() !== ']') {
      byIndex.set(byIndex.size, r.string());
      if (r.peek() === ',') r.pos++;
      else if (r.peek() !== ']') r.fail("expected ',' or ']'");
    }
    r.pos++;
  } else if (open === '{') {
    r.pos++;
    while (r.peek() !== '}') {
      const at = r.pos;
      const index = r.integer();
      r.expect(':');
      const name = r.string();
      if (byIndex.has(index)) { r.pos = at; r.fail(`class index ${index} appears twice`); }
      byIndex.set(index, name);
      if (r.peek() === ',') r.pos++;
      else if (r.peek() !== '}') r.fail("expected ',' or '}'");
    }
    r.pos++;
  } else {
    r.fail("expected '{'");
  }
  if (r.peek() !== '') r.fail('unexpected text after the closing bracket');
  if (byIndex.size === 0) throw new ClassNamesSyntaxError('no class names');
  const names: string[] = [];
  for (let i = 0; i < byIndex.size; i++) {
    const name = byIndex.get(i);
    if (name === undefined) throw new ClassNamesSyntaxError(`class indices must be 0..${byIndex.size - 1}; ${i} is missing`);
    if (name.trim() === '') throw new ClassNamesSyntaxError(`class ${i} has an empty name`);
    const first = names.indexOf(name);
    if (first >= 0) throw new ClassNamesSyntaxError(`classes ${first} and ${i} are both named '${name}'`);
    names.push(name);
  }
  return names;
}
