using EventSourced.Application.Reports;
using EventSourced.Application.Reports.ReceivingReports;

namespace EventSourced.Web.Reports;

/// <summary>Document a's services: report options and the receiver that stores delivered reports.</summary>
public static class ReportsSetup
{
    public static WebApplicationBuilder AddReports(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ReportOptions>(builder.Configuration.GetSection(ReportOptions.Section));
        builder.Services.AddSingleton<ReportReceiver>();
        return builder;
    }
}
