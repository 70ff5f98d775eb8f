using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Testcontainers.PostgreSql;

namespace EventSourced.Web.Tests.Support;

/// <summary>
/// One real PostgreSQL server for the whole test run, from the first source that answers:
/// <list type="number">
/// <item><c>EVENTSOURCED_TEST_POSTGRES</c>: a connection string to a server you run (needs CREATE DATABASE);</item>
/// <item>Testcontainers, when a Docker engine answers;</item>
/// <item>a throwaway cluster started here from the PostgreSQL server binaries (initdb + pg_ctl, as the
/// <c>postgres</c> user when running as root), on a free loopback port, in a temp folder removed at exit.</item>
/// </list>
/// Test classes get their own database on it (<see cref="TestDatabase"/>), so they run in parallel.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<Task<string>> Admin = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to the server's <c>postgres</c> database, for creating and dropping test databases.</summary>
    public static Task<string> AdminConnectionString => Admin.Value;

    public static string Source { get; private set; } = "";

    private static async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("EVENTSOURCED_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            Source = "EVENTSOURCED_TEST_POSTGRES";
            return configured;
        }

        if (DockerEngineMayAnswer())
        {
            try
            {
                var container = new PostgreSqlBuilder("postgres:15").Build();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                await container.StartAsync(timeout.Token);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(20));
                Source = "Testcontainers";
                return container.GetConnectionString();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"Testcontainers could not start PostgreSQL ({e.GetType().Name}: {e.Message}); starting a local cluster.");
            }
        }

        Source = "local cluster";
        return await LocalClusterAccess.StartAsync();
    }

    private static bool DockerEngineMayAnswer()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (!string.IsNullOrEmpty(host))
        {
            return true;
        }

        const string socketPath = "/var/run/docker.sock";
        if (!File.Exists(socketPath))
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    internal static class LocalClusterAccess
    {
        private const string Prefix = "eventsourced-test-pg-";

        public static async Task<string> StartAsync()
        {
            var cluster = await PostgresCluster.StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Dispose();
            return cluster.AdminConnectionString;
        }

        public static string Binaries()
        {
            var bin = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order().LastOrDefault()
                : null;
            return Environment.GetEnvironmentVariable("PG_BIN") ?? bin
                ?? throw new InvalidOperationException("No PostgreSQL server binaries under /usr/lib/postgresql/*/bin, no Docker engine and no EVENTSOURCED_TEST_POSTGRES: the tests need a real PostgreSQL.");
        }

        /// <summary>
        /// A new cluster in a temp folder on a free loopback port: throwaway settings (no fsync, commits not
        /// waited for), or durable ones for a test that crashes its server and counts what survived.
        /// </summary>
        public static async Task<(string Bin, string Root, bool AsRoot, int Port)> CreateAsync(bool durable = false)
        {
            var bin = Binaries();
            RemoveStaleClusters(bin);

            var root = Path.Combine(Path.GetTempPath(), Prefix + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(root);
            await File.WriteAllTextAsync(Path.Combine(root, "owner.pid"), Environment.ProcessId.ToString());
            var data = Path.Combine(root, "data");
            var asRoot = Environment.UserName == "root";
            if (asRoot)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", root]);
            }

            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], asRoot);
            var port = FreePort();
            // Throwaway data: durability settings off for speed; never do this outside tests.
            var durability = durable ? "" : "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"),
                $"\nport = {port}\nunix_socket_directories = '{root}'\nlisten_addresses = '127.0.0.1'\n{durability}max_connections = 400\nshared_buffers = 128MB\n");
            return (bin, root, asRoot, port);
        }

        public static Task PgCtlAsync(string bin, string root, bool asRoot, params string[] arguments) =>
            RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(root, "data"), "-l", Path.Combine(root, "server.log"), "-w", "-t", "60", .. arguments], asRoot);

        /// <summary>Clusters left by a test process that was killed before its exit handler ran.</summary>
        private static void RemoveStaleClusters(string bin)
        {
            foreach (var root in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
            {
                var pidFile = Path.Combine(root, "owner.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), out var pid) && ProcessAlive(pid))
                {
                    continue;
                }

                Stop(bin, root, Environment.UserName == "root");
            }
        }

        private static bool ProcessAlive(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        public static void Stop(string bin, string root, bool asRoot)
        {
            try
            {
                var data = Path.Combine(root, "data");
                if (File.Exists(Path.Combine(data, "postmaster.pid")))
                {
                    RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], asRoot).Wait(TimeSpan.FromSeconds(30));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or AggregateException)
            {
                // Best effort at exit: the folder is removed below either way.
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A later run's RemoveStaleClusters tries again.
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static async Task RunAsync(string file, string[] arguments, bool asPostgres = false)
        {
            var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (asPostgres)
            {
                foreach (var a in new[] { "-u", "postgres", "--", file })
                {
                    start.ArgumentList.Add(a);
                }
            }

            foreach (var a in arguments)
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr}{await stdout}");
            }
        }
    }
}

/// <summary>
/// A PostgreSQL cluster of one's own (the local-cluster way: initdb + pg_ctl, as <c>postgres</c> when
/// running as root), for the shared server of the run and for tests that stop and restart their server,
/// which no test may do to the shared one.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private readonly string bin;
    private readonly string root;
    private readonly bool asRoot;

    private PostgresCluster(string bin, string root, bool asRoot, int port)
    {
        (this.bin, this.root, this.asRoot) = (bin, root, asRoot);
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=20";
    }

    /// <summary>A connection string to the cluster's <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>Starts a new cluster; <paramref name="durable"/>: fsync and synchronous commit on, as in production.</summary>
    public static async Task<PostgresCluster> StartAsync(bool durable = false)
    {
        var (bin, root, asRoot, port) = await PostgresServer.LocalClusterAccess.CreateAsync(durable);
        var cluster = new PostgresCluster(bin, root, asRoot, port);
        await cluster.PgCtlAsync("start");
        return cluster;
    }

    /// <summary><c>pg_ctl</c> on this cluster, waiting for it: <c>stop -m fast</c>, <c>start</c>, <c>restart -m immediate</c>.</summary>
    public Task PgCtlAsync(params string[] arguments) => PostgresServer.LocalClusterAccess.PgCtlAsync(bin, root, asRoot, arguments);

    public void Dispose() => PostgresServer.LocalClusterAccess.Stop(bin, root, asRoot);
}

/// <summary>A database of its own for one test class: created before its tests, dropped after.</summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public string Name { get; } = "t_" + Guid.NewGuid().ToString("N");

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var admin = await PostgresServer.AdminConnectionString;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"create database {Name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = Name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(await PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"drop database if exists {Name} with (force)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
