"""The per-realm sync: extract -> load -> staging -> marts (+ publication), checks, automation."""
