// SPDX-License-Identifier: MIT
// Colours of the entity types of the text front end (host/text/README.md), from the Okabe-Ito
// palette so that they stay apart for colour-blind readers. Scenes sent as JSON may carry other
// type names; those, and entities without a type, are grey.

const COLOURS = {
  robotic: '#d55e00',
  industrial: '#e69f00',
  scientific: '#0072b2',
  electronic: '#cc79a7',
  furniture: '#009e73',
  spatial: '#56b4e9',
  physical: '#b8a000',
  temporal: '#7a5195',
};
const OTHER = '#8c8c8c';

export function typeName(entity) {
  return entity.type || 'unknown';
}

export function typeColour(type) {
  return COLOURS[type] || OTHER;
}
