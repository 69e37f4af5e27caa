// The console's one way to put values into HTML: every interpolation escaped, fragments kept, hostile strings inert.
import { escapeHtml, html } from '../../src/console/html.js';

describe('html tagged template', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['" onmouseover="alert(1)', '&quot; onmouseover=&quot;alert(1)'],
    ["' autofocus onfocus='x", '&#39; autofocus onfocus=&#39;x'],
    ['a & b', 'a &amp; b'],
    ['`${x}`', '&#96;${x}&#96;'],
    ['&lt;already&gt;', '&amp;lt;already&amp;gt;'],
  ])('escapes %j', (hostile, escaped) => {
    expect(escapeHtml(hostile)).toBe(escaped);
    expect(html`<p title="${hostile}">${hostile}</p>`.text).toBe(`<p title="${escaped}">${escaped}</p>`);
  });

  it('keeps nested fragments, joins arrays, drops null / undefined / false and prints numbers and 0', () => {
    const items = ['<b>', 'x'].map((v) => html`<li>${v}</li>`);
    expect(html`<ul>${items}</ul>`.text).toBe('<ul><li>&lt;b&gt;</li><li>x</li></ul>');
    expect(html`${null}${undefined}${false}${0}${12}`.text).toBe('012');
  });

  it('does not trust a string that merely looks like markup, only an Html fragment', () => {
    const fragment = html`<em>ok</em>`;
    expect(html`${fragment}|${fragment.text}`.text).toBe('<em>ok</em>|&lt;em&gt;ok&lt;/em&gt;');
  });
});
