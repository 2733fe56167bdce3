import { describe, expect, it } from '@jest/globals';
import { ClassNamesSyntaxError, parseClassNames } from '../../../src/ml/detect/names.js';

describe('parseClassNames (Python dict literal from Ultralytics metadata)', () => {
  it('reads what str(dict) writes, in index order', () => {
    expect(parseClassNames("{0: 'red_light', 1: 'yellow_light', 2: 'green_light'}")).toEqual(['red_light', 'yellow_light', 'green_light']);
    // A dict need not be written in index order.
    expect(parseClassNames("{1: 'b', 0: 'a'}")).toEqual(['a', 'b']);
    expect(parseClassNames("  {0:'a',1:'b',}  ")).toEqual(['a', 'b']);
    expect(parseClassNames("{\n 0: 'a',\n 1: 'b'\n}")).toEqual(['a', 'b']);
  });

  it('handles both quote styles and Python escapes', () => {
    // repr() switches to double quotes when the name holds a single quote.
    expect(parseClassNames(`{0: "it's", 1: 'say "hi"', 2: 'back\\\\slash', 3: 'don\\'t'}`)).toEqual(["it's", 'say "hi"', 'back\\slash', "don't"]);
    expect(parseClassNames("{0: 'tab\\there', 1: 'caf\\xe9', 2: '\\u00e9t\\u00e9', 3: '\\U0001F6A6', 4: 'oct\\101'}")).toEqual(['tab\there', 'café', 'été', '🚦', 'octA']);
    expect(parseClassNames("{0: 'feu_rouge_é', 1: '红灯'}")).toEqual(['feu_rouge_é', '红灯']);
    expect(parseClassNames("{0: 'keep\\d'}")).toEqual(['keep\\d']); // unknown escapes stay as written, as in Python
    expect(parseClassNames('{0: "a: b, c}"}')).toEqual(['a: b, c}']);
  });

  it('accepts a plain list (older exporters)', () => {
    expect(parseClassNames("['a', \"b\"]")).toEqual(['a', 'b']);
  });

  const bad: Array<[string, string]> = [
    ['', "expected '{' at the end"],
    ['red_light, green_light', "expected '{' at character 1"],
    ["{0: 'a', 1: 'b'", "expected ',' or '}' at the end"],
    ["{0: 'a' 1: 'b'}", "expected ',' or '}' at character 9"],
    ["{0: 'a}", 'unterminated class name at the end'],
    ['{0: a}', 'expected a quoted class name at character 5'],
    ["{'0': 'a'}", 'expected a class index (a non-negative integer) at character 2'],
    ["{-1: 'a'}", 'expected a class index (a non-negative integer) at character 2'],
    ["{0 'a'}", "expected ':' at character 4"],
    ["{0: 'a', 0: 'b'}", 'class index 0 appears twice at character 10'],
    ["{0: 'a', 2: 'c'}", 'class indices must be 0..1; 1 is missing'],
    ['{}', 'no class names'],
    ["{0: 'a', 1: 'a'}", "classes 0 and 1 are both named 'a'"],
    ["{0: '  '}", 'class 0 has an empty name'],
    ["{0: 'a'} extra", 'unexpected text after the closing bracket at character 10'],
    ["{0: 'bad\\x4'}", 'bad \\x escape at character 9'],
    ["{0: __import__('os').system('x')}", 'expected a quoted class name at character 5'],
  ];
  it.each(bad)('refuses %j: %s', (text, message) => {
    let err: unknown;
    try {
      parseClassNames(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClassNamesSyntaxError);
    expect((err as Error).message).toBe(message);
  });
});
