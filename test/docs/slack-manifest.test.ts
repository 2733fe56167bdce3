// The README tells a newcomer how many URLs of manifest.yml to replace: it must be all of them.
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];

describe('README and the Slack manifest', () => {
  it('the number of URLs the README says to replace is the number the manifest has', () => {
    const manifest = fs.readFileSync('manifest.yml', 'utf8');
    const urls = manifest.split('\n').filter((l) => !l.trimStart().startsWith('#') && l.includes('https://assay.example.com'));
    expect(urls.length).toBeGreaterThan(0);
    const readme = fs.readFileSync('README.md', 'utf8');
    const said = /the (\w+) URLs all point at `POST \/slack\/events`/.exec(readme)?.[1];
    expect(said).toBeDefined();
    expect(WORDS.indexOf(said!)).toBe(urls.length);
    // and the manifest's own header comment
    const comment = /drop the (\w+) URLs/.exec(manifest)?.[1];
    expect(WORDS.indexOf(comment!)).toBe(urls.length);
  });
});
