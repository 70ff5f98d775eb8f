using System.Globalization;

using EventSourced.Web.Infrastructure;

namespace EventSourced.Web.Shared.StudyFeed;

/// <summary>The paging and waiting parameters the study-feed routes share.</summary>
public static class FeedParameters
{
    /// <summary>How often a waiting request looks again without a wake-up (the daemon may run on another node).</summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(250);

    public static bool TryLimit(HttpRequest request, int defaultLimit, int maxLimit, out int limit, out IResult problem)
    {
        problem = Results.Empty;
        limit = defaultLimit;
        var value = request.Query["limit"].ToString();
        if (value.Length == 0)
        {
            return true;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit >= 1 && limit <= maxLimit)
        {
            return true;
        }

        problem = Problems.BadRequest($"limit must be an integer from 1 to {maxLimit}.");
        return false;
    }

    /// <summary><c>wait</c>: seconds (decimals allowed) to hold the request while nothing new is there; 0 by default.</summary>
    public static bool TryWait(HttpRequest request, TimeSpan maxWait, out TimeSpan wait, out IResult problem)
    {
        problem = Results.Empty;
        wait = TimeSpan.Zero;
        var value = request.Query["wait"].ToString();
        if (value.Length == 0)
        {
            return true;
        }

        if (double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            && seconds >= 0 && seconds <= maxWait.TotalSeconds)
        {
            wait = TimeSpan.FromSeconds(seconds);
            return true;
        }

        problem = Problems.BadRequest($"wait must be a number of seconds from 0 to {maxWait.TotalSeconds}.");
        return false;
    }
}
