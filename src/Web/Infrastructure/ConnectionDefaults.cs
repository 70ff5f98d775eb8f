using System.Data.Common;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>What the service sets on its PostgreSQL data sources unless the connection string or Npgsql's environment says otherwise.</summary>
public static class ConnectionDefaults
{
    /// <summary>
    /// GSS (Kerberos) encryption off unless asked for. Npgsql's default, <c>Prefer</c>, asks the system's GSS library for
    /// Kerberos credentials before each physical connection: that loads libgssapi_krb5, libkrb5 and their kin (about
    /// 1.3 MiB of mapped pages) into a service that signs in to PostgreSQL with a password and finds no ticket.
    /// A connection string naming <c>GSS Encryption Mode</c>, or the <c>PGGSSENCMODE</c> variable Npgsql reads, keeps
    /// its choice (docs/architecture.md, "Start-up footprint: the web host without IIS and QUIC").
    /// </summary>
    public static NpgsqlDataSourceBuilder WithoutGssProbe(this NpgsqlDataSourceBuilder builder, string connectionString)
    {
        if (!NamesGssEncryption(connectionString) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PGGSSENCMODE")))
        {
            builder.ConnectionStringBuilder.GssEncryptionMode = GssEncryptionMode.Disable;
        }

        return builder;
    }

    /// <summary>Whether the connection string sets the GSS encryption mode under either of Npgsql's names for it (any case).</summary>
    public static bool NamesGssEncryption(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.ContainsKey("GSS Encryption Mode") || given.ContainsKey("GssEncryptionMode");
    }
}
