#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/fake_clock.h"
#include "server/routes.h"
#include "server/service.h"

namespace modelmon::server {
namespace {

using Kind = RouteMatch::Kind;

std::optional<size_t> Lookup(std::string_view name) {
  if (name == "fraud") return 0;
  if (name == "price") return 1;
  return std::nullopt;
}

struct Expected {
  std::string_view method;
  std::string_view target;
  Scope scope;
  std::string_view handler;
  size_t model;
};

// Every route of the table, by a request it answers.
constexpr Expected kEveryRoute[] = {
    {"POST", "/v1/predictions", Scope::kIngest, "predictions", 0},
    {"POST", "/v1/ground-truth", Scope::kIngest, "ground_truth", 0},
    {"POST", "/v1/discard", Scope::kIngest, "discard", 0},
    {"GET", "/metrics", Scope::kRead, "metrics", 0},
    {"GET", "/healthz", Scope::kHealth, "healthz", 0},
    {"GET", "/readyz", Scope::kHealth, "readyz", 0},
    {"GET", "/v1/alerts", Scope::kRead, "alerts", 0},
    {"GET", "/v1/models", Scope::kRead, "models", 0},
    {"GET", "/v1/models/price", Scope::kRead, "model", 1},
    {"PUT", "/v1/models/price/reference", Scope::kAdmin, "reference", 1},
    {"POST", "/v1/models/fraud/reference/promote", Scope::kAdmin, "promote", 0},
};

TEST(RouterTest, EveryRouteHasItsScopeAndHandler) {
  const Router router(true, Lookup);
  for (const Expected& e : kEveryRoute) {
    SCOPED_TRACE(e.target);
    const RouteMatch m = router.Match(e.method, e.target);
    EXPECT_EQ(m.kind, Kind::kFound);
    ASSERT_NE(m.route, nullptr);
    EXPECT_NE(m.route->call, nullptr);
    EXPECT_EQ(m.scope, e.scope);
    EXPECT_EQ(ScopeOf(e.target), e.scope);
    EXPECT_EQ(m.handler, e.handler);
    EXPECT_EQ(m.route->handler, e.handler);
    EXPECT_EQ(m.model, e.model);
  }
}

TEST(RouterTest, EveryRoutedEntryIsCoveredAndHandlerLabelsAreDistinct) {
  std::set<std::string_view> labels;
  size_t routed = 0;
  for (const Route& r : Routes()) {
    if (r.call == nullptr) continue;
    ++routed;
    EXPECT_TRUE(labels.insert(r.handler).second) << r.handler;
  }
  EXPECT_EQ(routed, std::size(kEveryRoute));
}

TEST(RouterTest, GetRoutesAnswerHead) {
  const Router router(false, Lookup);
  EXPECT_EQ(router.Match("HEAD", "/metrics").kind, Kind::kFound);
  EXPECT_EQ(router.Match("HEAD", "/v1/models/fraud").kind, Kind::kFound);
  EXPECT_EQ(router.Match("HEAD", "/v1/predictions").kind, Kind::kMethodNotAllowed);
}

TEST(RouterTest, WrongMethodIsNotAllowedWithTheTableMethods) {
  const Router router(false, Lookup);
  const RouteMatch get_reference = router.Match("GET", "/v1/models/fraud/reference");
  EXPECT_EQ(get_reference.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(get_reference.handler, "reference");
  EXPECT_EQ(AllowedMethods("/v1/models/fraud/reference", false), "PUT");
  const RouteMatch post_metrics = router.Match("POST", "/metrics");
  EXPECT_EQ(post_metrics.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(post_metrics.handler, "metrics");
  EXPECT_EQ(AllowedMethods("/metrics", false), "GET, HEAD");
  EXPECT_EQ(router.Match("GET", "/v1/predictions").handler, "predictions");
  EXPECT_EQ(AllowedMethods("/v1/predictions", false), "POST");
  EXPECT_EQ(router.Match("DELETE", "/v1/models/fraud").kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(AllowedMethods("/v1/models/fraud/reference/promote", false), "POST");
  EXPECT_EQ(AllowedMethods("/v1/nothing", false), "");
}

TEST(RouterTest, UnknownPathIsNotFoundWithReadScope) {
  const Router router(true, Lookup);
  for (std::string_view target : {"/", "", "/v1", "/v1/nothing", "/metrics/x", "/healthz/x",
                                  "/v1/predictions/x", "/v2/models", "/V1/models"}) {
    SCOPED_TRACE(target);
    const RouteMatch m = router.Match("GET", target);
    EXPECT_EQ(m.kind, Kind::kNotFound);
    EXPECT_EQ(m.route, nullptr);
    EXPECT_EQ(m.handler, "not_found");
    EXPECT_EQ(m.scope, Scope::kRead);
    EXPECT_EQ(ScopeOf(target), Scope::kRead);
  }
}

TEST(RouterTest, UnknownPathBelowAKnownModelIsNotFoundWithAdminScope) {
  const Router router(false, Lookup);
  for (std::string_view target : {"/v1/models/fraud/foo", "/v1/models/fraud/reference/x",
                                  "/v1/models/fraud/reference/promote/x"}) {
    SCOPED_TRACE(target);
    const RouteMatch m = router.Match("POST", target);
    EXPECT_EQ(m.kind, Kind::kNotFound);
    EXPECT_EQ(m.handler, "not_found");
    EXPECT_EQ(m.scope, Scope::kAdmin);
  }
}

TEST(RouterTest, UnknownModelAnywhereUnderModels) {
  const Router router(false, Lookup);
  struct Case {
    std::string_view method;
    std::string_view target;
    Scope scope;
  };
  for (const Case& c :
       {Case{"GET", "/v1/models/nope", Scope::kRead}, Case{"POST", "/v1/models/nope", Scope::kRead},
        Case{"PUT", "/v1/models/nope/reference", Scope::kAdmin},
        Case{"GET", "/v1/models/nope/reference", Scope::kAdmin},
        Case{"POST", "/v1/models/nope/reference/promote", Scope::kAdmin},
        Case{"GET", "/v1/models/nope/a/b/c", Scope::kAdmin}}) {
    SCOPED_TRACE(c.target);
    const RouteMatch m = router.Match(c.method, c.target);
    EXPECT_EQ(m.kind, Kind::kUnknownModel);
    EXPECT_EQ(m.handler, "model");
    EXPECT_EQ(m.model_name, "nope");
    EXPECT_EQ(m.scope, c.scope);
  }
}

TEST(RouterTest, DiscardOnlyWhenEnabledButAlwaysIngestScope) {
  const Router on(true, Lookup);
  const Router off(false, Lookup);
  EXPECT_EQ(on.Match("POST", "/v1/discard").kind, Kind::kFound);
  EXPECT_EQ(on.Match("GET", "/v1/discard").kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(AllowedMethods("/v1/discard", true), "POST");
  const RouteMatch m = off.Match("POST", "/v1/discard");
  EXPECT_EQ(m.kind, Kind::kNotFound);
  EXPECT_EQ(m.handler, "not_found");
  EXPECT_EQ(m.scope, Scope::kIngest);
  EXPECT_EQ(off.Match("GET", "/v1/discard").kind, Kind::kNotFound);
  EXPECT_EQ(AllowedMethods("/v1/discard", false), "");
  EXPECT_EQ(ScopeOf("/v1/discard"), Scope::kIngest);
}

TEST(RouterTest, QueryStringsAndEmptySegmentsAreIgnored) {
  const Router router(false, Lookup);
  for (std::string_view target : {"/v1/models/price?verbose=1", "//v1//models/price/",
                                  "/v1/models/price/?a=/b", "v1/models/price"}) {
    SCOPED_TRACE(target);
    const RouteMatch m = router.Match("GET", target);
    EXPECT_EQ(m.kind, Kind::kFound);
    EXPECT_EQ(m.handler, "model");
    EXPECT_EQ(m.model, 1u);
  }
  EXPECT_EQ(router.Match("POST", "/v1/predictions?x=1").handler, "predictions");
  EXPECT_EQ(ScopeOf("//v1/predictions?x"), Scope::kIngest);
  EXPECT_EQ(ScopeOf("/healthz?probe=1"), Scope::kHealth);
  EXPECT_EQ(router.Match("GET", "/v1/models/?x=/v1/models/fraud").handler, "models");
  // The query is not part of the model name.
  EXPECT_EQ(router.Match("GET", "/v1/models/nope?fraud").model_name, "nope");
}

// Through Service: the answers the route table drives.
class ServiceRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigResult config = LoadConfigString(R"(
server: {listen: "127.0.0.1:0"}
models:
  - name: fraud
    task: binary_classification
    classes: ["0", "1"]
    features: [{name: a, type: numerical}]
    reference: {capture: 100}
)");
    ASSERT_TRUE(config.ok()) << ::testing::PrintToString(config.errors);
    std::string error;
    service_ = Service::Create(*config.config, &clock_, &error);
    ASSERT_TRUE(service_) << error;
  }

  HttpResponse Call(std::string_view method, std::string_view target) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    return service_->Handle(r);
  }

  static std::string Header(const HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "<absent>";
  }

  ::modelmon::testing::FakeClock clock_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceRoutingTest, MethodNotAllowedCarriesAllow) {
  const HttpResponse r = Call("GET", "/v1/models/fraud/reference");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "PUT");
  EXPECT_EQ(r.body, "{\"error\":\"method not allowed; use PUT\"}\n");
  const HttpResponse m = Call("POST", "/metrics");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(Header(m, "Allow"), "GET, HEAD");
}

TEST_F(ServiceRoutingTest, UnknownModelAndUnknownPath) {
  const HttpResponse r = Call("GET", "/v1/models/nope/whatever");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"error\":\"unknown model \\\"nope\\\"\"}\n");
  const HttpResponse n = Call("GET", "/v1/nothing");
  EXPECT_EQ(n.status, 404);
  EXPECT_EQ(n.body,
            "{\"error\":\"no such endpoint; see GET /v1/models, POST /v1/predictions, "
            "POST /v1/ground-truth, GET /metrics\"}\n");
  EXPECT_EQ(Header(n, "Allow"), "<absent>");
  EXPECT_EQ(Call("POST", "/v1/discard").status, 404);
  EXPECT_EQ(Call("HEAD", "/healthz").status, 200);
}

TEST_F(ServiceRoutingTest, RequestsAreCountedByHandlerLabel) {
  Call("GET", "/v1/models/nope");
  Call("POST", "/metrics");
  Call("GET", "/v1/nothing");
  const std::string metrics = Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("modelmon_http_requests_total{code=\"404\",handler=\"model\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("modelmon_http_requests_total{code=\"405\",handler=\"metrics\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("modelmon_http_requests_total{code=\"404\",handler=\"not_found\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("modelmon_limit_hits_total{limit=\"draining\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace modelmon::server
