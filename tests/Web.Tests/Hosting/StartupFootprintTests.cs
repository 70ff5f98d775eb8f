using Carter;
using EventSourced.Web.DicomWeb.Wado;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.Retrieval;
using EventSourced.Web.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// What the service leaves out of its start-up to hold less memory (docs/architecture.md, "Start-up footprint"),
/// and that leaving it out changes nothing it serves.
/// </summary>
public sealed class StartupFootprintTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public void Carter_is_given_every_module_its_own_search_of_the_assembly_would_register()
    {
        // Carter's rule (CarterExtensions.GetNewModules): every public, concrete ICarterModule of the assembly's types.
        var carters = typeof(Program).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ICarterModule).IsAssignableFrom(t) && t != typeof(ICarterModule) && t.IsPublic)
            .OrderBy(t => t.FullName).ToList();

        Assert.NotEmpty(carters);
        Assert.Equal(carters, WebSetup.CarterModules().OrderBy(t => t.FullName));
    }

    [Fact]
    public void The_retrieval_warm_up_finds_every_type_of_its_namespaces_without_loading_the_whole_assembly()
    {
        // The warm-up's namespaces; GetTypes() is the search it replaced (it loads every type of the assembly).
        var namespaces = new HashSet<string> { typeof(RetrievalReads).Namespace!, typeof(WadoModule).Namespace! };
        var every = typeof(Program).Assembly.GetTypes().Where(t => t.Namespace is { } n && namespaces.Contains(n))
            .OrderBy(t => t.FullName).ToList();

        Assert.Contains(every, t => t.IsNested && t.DeclaringType == typeof(WadoModule) && t.Name.Contains("d__"));
        Assert.Equal(every, RetrievalWarmUp.TypesIn(namespaces).OrderBy(t => t.FullName));
    }

    [Fact]
    public async Task The_data_protection_key_ring_is_not_read_at_start_up_and_data_protection_is_still_there()
    {
        // The framework still registers its key-ring loader under the name the service removes it by.
        Assert.Contains(new ServiceCollection().AddAuthentication().Services, WebSetup.IsKeyRingLoader);

        await using var app = new AppFactory(database.ConnectionString);
        app.CreateClient().Dispose();

        Assert.DoesNotContain(app.Services.GetServices<IHostedService>(), s => s.GetType().FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService");
        var protector = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("footprint-test");
        Assert.Equal("payload", protector.Unprotect(protector.Protect("payload")));
    }
}
