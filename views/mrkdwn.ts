// The one escaping function for text from outside Assay (Salesforce kit and option names, edge
// and trainer errors, dataset file contents, user-typed reasons, model names) placed in Slack
// mrkdwn — message text, section and context blocks, the `text` fallback. Escaping &, < and > is
// what Slack asks for, and it neutralises every control sequence, which all start with "<":
// <!channel>, <!here>, <!subteam^…>, <@U…> mentions, <#C…> links and disguised links
// <https://evil.example|click>. Plain-text fields (headers, options, inputs) are shown literally
// and must not be escaped. Escape each value once, where it is put into mrkdwn.
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
