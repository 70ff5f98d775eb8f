namespace EventSourced.Projections;

/// <summary>
/// The lists read models keep in ordinal order with each value once (a study's instances and series, a patient's
/// studies, a study's calling AE titles): a value put in its place by binary search and the list copied once, where
/// appending and sorting again cost a search and a sort per value, a request of thousands of values quadratic in them.
/// </summary>
public static class OrdinalSet
{
    /// <summary><paramref name="sorted"/> with <paramref name="value"/> in its place; the list itself when it holds the value.</summary>
    public static IReadOnlyList<string> With(IReadOnlyList<string> sorted, string value)
    {
        int low = 0, high = sorted.Count - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) >> 1);
            var order = string.CompareOrdinal(sorted[middle], value);
            if (order == 0)
            {
                return sorted;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        var inserted = new List<string>(sorted.Count + 1);
        inserted.AddRange(sorted);
        inserted.Insert(low, value);
        return inserted;
    }
}
