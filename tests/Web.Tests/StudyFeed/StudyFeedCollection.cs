namespace EventSourced.Web.Tests.StudyFeed;

/// <summary>The feed tests depend on the async daemon's timing: never run them beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StudyFeedCollection
{
    public const string Name = "Study feed";
}
