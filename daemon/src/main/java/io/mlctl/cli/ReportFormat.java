package io.mlctl.cli;

/** Output formats of commands that report rather than plan: for a person, or one JSON document for a script. */
enum ReportFormat { text, json }
