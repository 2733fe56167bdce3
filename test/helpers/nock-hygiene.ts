// The suite runs every file in one worker (maxWorkers 1), and Node's http module is shared by all
// of them while each file gets its own nock. A file's nock stays wrapped around http after the
// file ends unless it is restored, so later files' requests went through stale interceptors (a
// response destroyed there never closed its real socket). Each file leaves http as it found it.
import { afterAll } from '@jest/globals';
import nock from 'nock';

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
