import { describe, expect, it } from '@jest/globals';
import { ConfigError, integrationsOff, loadConfig } from '../../src/config/index.js';

describe('configuration', () => {
  it('needs nothing to start on the embedded default', () => {
    const c = loadConfig({});
    expect(c.database.url).toBeUndefined();
    expect(c.port).toBe(3000);
    expect(c.slack).toBeUndefined();
    expect(integrationsOff(c).join('\n')).toMatch(/Slack \(SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set\)/);
  });

  it('a malformed setting fails with one line naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^PORT: /);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL: must be a URL starting with postgres:/);
    expect(() => loadConfig({ ASSAY_APPROVERS: 'U123,bob' })).toThrow(/^ASSAY_APPROVERS/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxp-user' })).toThrow(/^SLACK_BOT_TOKEN: must be a bot token/);
  });

  it('a partial set for one integration fails, naming what is missing', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow('SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set (Slack)');
    expect(() => loadConfig({ SF_ORG_ID: '00D5e000000KQ2eEAG' })).toThrow(/^SF_OUTBOUND_TOKEN is required/);
    expect(() => loadConfig({ TRAINER_URL: 'https://gpu.example' })).toThrow(/^TRAINER_SECRET is required/);
    expect(() => loadConfig({ SLACK_APP_TOKEN: 'xapp-1' })).toThrow(/^SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN/);
  });

  it('parses a full configuration', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ASSAY_APPROVERS: 'U1, U2', DATABASE_URL: 'postgres://h/db', ASSAY_ALLOW_HTTP_FETCH: 'true' });
    expect(c.slack?.signingSecret).toBe('s');
    expect(c.approvers).toEqual(['U1', 'U2']);
    expect(c.fetch.allowHttp).toBe(true);
  });

  it('test-only fetch relaxations are refused in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ASSAY_ALLOW_PRIVATE_FETCH: 'true' })).toThrow(/must not be set when NODE_ENV=production/);
  });
});
