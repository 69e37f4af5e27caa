import { issue, toOperationOutcome, ruleNumberOf, hasErrors } from '../src/validation/outcome.js';

describe('OperationOutcome helpers', () => {
  it('appends the rule number to diagnostics and details', () => {
    const oo = toOperationOutcome([issue('error', 'value', 'Wrong organization ID', 'Encounter.identifier[0].system', '10117')]);
    expect(oo.issue[0].diagnostics).toBe('Wrong organization ID (RuleNumber: 10117)');
    expect(oo.issue[0].details?.text).toContain('RuleNumber: 10117');
    expect(oo.issue[0].expression).toEqual(['Encounter.identifier[0].system']);
  });
  it('reports a valid result as one information issue', () => {
    const oo = toOperationOutcome([]);
    expect(oo.issue).toHaveLength(1);
    expect(oo.issue[0].severity).toBe('information');
  });
  it('extracts rule numbers and tells errors from warnings', () => {
    expect(ruleNumberOf('Found duplicate resource (RuleNumber: 20002)')).toBe('20002');
    expect(ruleNumberOf('no rule here')).toBeUndefined();
    // Both spellings the platform uses (recorded staging answers), any case.
    expect(ruleNumberOf('found duplicated EpisodeOfCare Type with status active. (Rule Number: 10109)')).toBe('10109');
    expect(ruleNumberOf('x (rulenumber:10457)')).toBe('10457');
    expect(ruleNumberOf('Rule  Number: 1')).toBeUndefined();
    expect(hasErrors([issue('warning', 'value', 'w')])).toBe(false);
    expect(hasErrors([issue('error', 'value', 'e')])).toBe(true);
  });
});
