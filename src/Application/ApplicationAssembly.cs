namespace EventSourced.Application;

/// <summary>Marker for Wolverine's handler discovery (set explicitly: see docs/architecture.md, "Code generation").</summary>
public sealed class ApplicationAssembly;
