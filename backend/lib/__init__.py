"""Cross-cutting helpers shared by every bounded context (problems, logging, validators)."""
