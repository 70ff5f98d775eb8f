namespace EventSourced.Application.Studies;

/// <summary>Configuration section <c>StudyLifecycle</c>.</summary>
public sealed class StudyLifecycleOptions
{
    public const string Section = "StudyLifecycle";

    /// <summary>
    /// How long a started deprecation stays pending before its work runs (zero: at once). A window in
    /// which a second deprecation of the study is refused as pending; tests use it to hold one pending.
    /// </summary>
    public TimeSpan DeprecationDelay { get; set; } = TimeSpan.Zero;
}
