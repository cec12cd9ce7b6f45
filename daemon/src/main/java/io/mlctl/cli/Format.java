package io.mlctl.cli;

/** Output formats of plan-like commands. */
enum Format { text, json, markdown }
