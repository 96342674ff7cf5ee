// Shim over libyaml (Debian libyaml-dev; libyaml-0-2 on the node) for Swift.
//
// libyaml's event API imports into Swift as it is: plain functions and structs. This header gives
// the module its name and the few accessors that would otherwise reach into the event's union from
// Swift. Only PullwardenCore/YAML/ sees these types.
#ifndef PULLWARDEN_CYAML_H
#define PULLWARDEN_CYAML_H

#include <yaml.h>
#include <stddef.h>

/// The scalar's bytes (may hold NUL from a "\0" escape, so use the length) of a YAML_SCALAR_EVENT.
static inline const unsigned char *CYAML_scalarValue(const yaml_event_t *event, size_t *length) {
  *length = event->data.scalar.length;
  return event->data.scalar.value;
}

/// True when the scalar was written plain (unquoted, not a block scalar).
static inline int CYAML_scalarIsPlain(const yaml_event_t *event) {
  return event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/// The anchor (NULL when none) of a scalar, sequence-start, mapping-start or alias event.
static inline const char *CYAML_anchor(const yaml_event_t *event) {
  switch (event->type) {
  case YAML_SCALAR_EVENT: return (const char *)event->data.scalar.anchor;
  case YAML_SEQUENCE_START_EVENT: return (const char *)event->data.sequence_start.anchor;
  case YAML_MAPPING_START_EVENT: return (const char *)event->data.mapping_start.anchor;
  case YAML_ALIAS_EVENT: return (const char *)event->data.alias.anchor;
  default: return NULL;
  }
}

/// The resolved tag (NULL when none; `!!str` arrives as `tag:yaml.org,2002:str`) of a scalar,
/// sequence-start or mapping-start event.
static inline const char *CYAML_tag(const yaml_event_t *event) {
  switch (event->type) {
  case YAML_SCALAR_EVENT: return (const char *)event->data.scalar.tag;
  case YAML_SEQUENCE_START_EVENT: return (const char *)event->data.sequence_start.tag;
  case YAML_MAPPING_START_EVENT: return (const char *)event->data.mapping_start.tag;
  default: return NULL;
  }
}

#endif
