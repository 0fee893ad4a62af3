import { describe, expect, it } from 'vitest';
import { TemplateError, checkTemplate, renderTemplate } from './templates.js';

const vars = {
  contact: { id: 'ct_1', email: 'ann@example.com', firstName: 'Ann', company: 'A & <B>', visits: 3 },
  event: { event: 'purchase.completed', properties: { plan: 'pro', items: ['a', 'b'] } },
  workflow: { id: 'wf_1', name: 'Welcome' },
};

describe('renderTemplate', () => {
  it('renders contact, event and workflow variables, and filters', async () => {
    expect(await renderTemplate('Hi {{ contact.firstName }}, {{ event.properties.plan | upcase }} in {{ workflow.name }}', vars, 'text')).toBe(
      'Hi Ann, PRO in Welcome',
    );
    expect(await renderTemplate('{{ contact.visits | plus: 1 }} {{ event.properties.items | join: "+" }} {{ contact.id }}', vars, 'text')).toBe('4 a+b ct_1');
    expect(await renderTemplate('{% if contact.lastName %}x{% else %}none{% endif %} {{ contact.lastName | default: "there" }}', vars, 'text')).toBe(
      'none there',
    );
  });

  it('an undefined variable throws TemplateError naming it, never a blank', async () => {
    const err = await renderTemplate('Hi {{ contact.lastName }}!', vars, 'html').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).variable).toBe('contact.lastName');
    expect((err as TemplateError).message).toContain('contact.lastName');
    const noEvent = await renderTemplate('{{ event.properties.plan }}', { ...vars, event: null }, 'text').catch((e: unknown) => e);
    expect((noEvent as TemplateError).variable).toBe('event');
    const nested = await renderTemplate('{{ event.properties.nope }}', vars, 'text').catch((e: unknown) => e);
    expect((nested as TemplateError).variable).toBe('event.properties.nope');
  });

  it('escapes outputs in html, not in text; | raw opts out', async () => {
    expect(await renderTemplate('<p>{{ contact.company }}</p>', vars, 'html')).toBe('<p>A &amp; &lt;B&gt;</p>');
    expect(await renderTemplate('{{ contact.company }}', vars, 'text')).toBe('A & <B>');
    expect(await renderTemplate('{{ contact.company | raw }}', vars, 'html')).toBe('A & <B>');
  });

  it('an unknown filter is a TemplateError', async () => {
    await expect(renderTemplate('{{ contact.firstName | shout }}', vars, 'text')).rejects.toBeInstanceOf(TemplateError);
  });

  it('a runaway loop fails, it does not hang', async () => {
    await expect(renderTemplate('{% for i in (1..100000000) %}{{ i }}{% endfor %}', vars, 'text')).rejects.toBeInstanceOf(TemplateError);
  });
});

describe('checkTemplate', () => {
  it('names syntax errors and unknown filters without rendering', () => {
    expect(checkTemplate('Hi {{ contact.anything }}')).toBeNull();
    expect(checkTemplate('Hi {{ contact.firstName ')).toMatch(/not closed/);
    expect(checkTemplate('{% if %}x{% endif %}')).toBeTruthy();
    expect(checkTemplate('{{ x | shout }}')).toMatch(/shout/);
  });
});
