using Marten;

namespace EventSourced.Projections;

/// <summary>
/// <c>Duplicate()</c> gives a duplicated column a b-tree index of its own. Where a composite index of the
/// same table starts with that column, the composite serves every lookup by it, so the column is
/// duplicated without that index: one index fewer to write on every insert and every rewrite of the row,
/// and its bytes (docs/architecture.md, "Storage settings"). Marten's schema application drops the index
/// from a database created before and never creates it again.
/// </summary>
public static class CompositeIndexes
{
    /// <summary>
    /// Duplicates <paramref name="member"/> of <typeparamref name="T"/> into its column with no index of its
    /// own. A document policy runs when the mapping is created, before the <c>Schema.For</c> settings, so
    /// their composite index over the member finds the column.
    /// </summary>
    public static StoreOptions DuplicateLeadingColumnOfComposite<T>(this StoreOptions options, string member) =>
        options.DuplicateWithoutIndex<T>(member);

    /// <summary>
    /// Duplicates <paramref name="member"/> of <typeparamref name="T"/> into its column with no b-tree: for a
    /// column that a composite leads, or one matched only in ways a b-tree cannot serve (a <c>like '% word%'</c>
    /// with a leading wildcard), where the index Marten would add is written with every row and never read.
    /// </summary>
    public static StoreOptions DuplicateWithoutIndex<T>(this StoreOptions options, string member)
    {
        options.Policies.ForAllDocuments(mapping =>
        {
            if (mapping.DocumentType == typeof(T))
            {
                mapping.DuplicateField(member);
            }
        });
        return options;
    }

    /// <summary>
    /// Duplicates the member path <paramref name="members"/> of <typeparamref name="T"/> (a member of a member) into
    /// <paramref name="column"/> with no index: a value read with the row by key, never searched on.
    /// </summary>
    public static StoreOptions DuplicateWithoutIndex<T>(this StoreOptions options, string column, params string[] members)
    {
        options.Policies.ForAllDocuments(mapping =>
        {
            if (mapping.DocumentType == typeof(T))
            {
                var path = new System.Reflection.MemberInfo[members.Length];
                var type = typeof(T);
                for (var i = 0; i < members.Length; i++)
                {
                    path[i] = type.GetProperty(members[i]) ?? throw new ArgumentException($"{type.Name} has no property {members[i]}.");
                    type = ((System.Reflection.PropertyInfo)path[i]).PropertyType;
                }

                mapping.DuplicateField(path, columnName: column);
            }
        });
        return options;
    }
}
