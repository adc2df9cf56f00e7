/**
 * Tags on the machines' state nodes. A tag only marks a state for readers (state-sets.ts); it is not
 * part of a snapshot's value, context or persisted form, so adding one changes no fold of any log.
 */

/** Nothing moves in this state until a person answers (approve / deny, retry / give up). */
export const WAITS_FOR_PERSON = 'waitsForPerson';
