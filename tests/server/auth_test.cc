#include "server/auth.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/fake_clock.h"
#include "server/service.h"

namespace modelmon::server {
namespace {

constexpr std::string_view kToken = "s3cret-token-0123456789";

TEST(AuthTest, BearerSchemeIsCaseInsensitive) {
  EXPECT_TRUE(BearerAuthorized("Bearer s3cret-token-0123456789", kToken));
  EXPECT_TRUE(BearerAuthorized("bearer s3cret-token-0123456789", kToken));
  EXPECT_TRUE(BearerAuthorized("BEARER s3cret-token-0123456789", kToken));
  EXPECT_TRUE(BearerAuthorized("bEaReR s3cret-token-0123456789", kToken));
}

TEST(AuthTest, TheTokenItselfIsCaseSensitive) {
  EXPECT_FALSE(BearerAuthorized("Bearer S3CRET-TOKEN-0123456789", kToken));
}

TEST(AuthTest, WrongMissingOrShortTokensAreRefused) {
  EXPECT_FALSE(BearerAuthorized("", kToken));
  EXPECT_FALSE(BearerAuthorized("Bearer", kToken));
  EXPECT_FALSE(BearerAuthorized("Bearer ", kToken));
  EXPECT_FALSE(BearerAuthorized("Bearer s3cret", kToken));                    // A prefix.
  EXPECT_FALSE(BearerAuthorized("Bearer s3cret-token-012345678", kToken));    // One short.
  EXPECT_FALSE(BearerAuthorized("Bearer s3cret-token-01234567890", kToken));  // One long.
  EXPECT_FALSE(BearerAuthorized("Bearer s3cret-token-0123456788", kToken));   // Last differs.
  EXPECT_FALSE(BearerAuthorized("Basic s3cret-token-0123456789", kToken));    // Wrong scheme.
  EXPECT_FALSE(BearerAuthorized("Bearers3cret-token-0123456789", kToken));    // No space.
  EXPECT_FALSE(BearerAuthorized("Bearer  s3cret-token-0123456789", kToken));  // Two spaces.
  EXPECT_FALSE(BearerAuthorized("s3cret-token-0123456789", kToken));          // No scheme.
}

TEST(AuthTest, AnEmptyTokenLeavesTheScopeOpen) {
  EXPECT_TRUE(BearerAuthorized("", ""));
  EXPECT_TRUE(BearerAuthorized("Bearer anything", ""));
  EXPECT_TRUE(BearerAuthorized("garbage", ""));
}

TEST(AuthTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  // A shorter string is not padded into a match by NUL bytes.
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("ab\0", 3), "ab"));
}

TEST(AuthTest, EachScopeHasItsToken) {
  ServerConfig config;
  config.read_token = "r";
  config.ingest_token = "i";
  config.admin_token = "a";
  EXPECT_EQ(TokenFor(config, Scope::kHealth), "");
  EXPECT_EQ(TokenFor(config, Scope::kRead), "r");
  EXPECT_EQ(TokenFor(config, Scope::kIngest), "i");
  EXPECT_EQ(TokenFor(config, Scope::kAdmin), "a");
  EXPECT_EQ(ScopeName(Scope::kRead), "read");
  EXPECT_EQ(ScopeName(Scope::kIngest), "ingest");
  EXPECT_EQ(ScopeName(Scope::kAdmin), "admin");
}

// Through Service: per-scope tokens guard the routes, health stays open.
class ServiceAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigResult config = LoadConfigString(R"(
server:
  listen: "127.0.0.1:0"
  auth:
    read_token: read-token-0123456789
    ingest_token: ingest-token-0123456789
    admin_token: admin-token-0123456789
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

  int Status(std::string_view method, std::string_view target, std::string_view authorization) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.authorization = authorization;
    return service_->Handle(r).status;
  }

  ::modelmon::testing::FakeClock clock_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceAuthTest, PerScopeTokens) {
  constexpr std::string_view kRead = "Bearer read-token-0123456789";
  constexpr std::string_view kIngest = "Bearer ingest-token-0123456789";
  constexpr std::string_view kAdmin = "Bearer admin-token-0123456789";
  EXPECT_EQ(Status("GET", "/healthz", ""), 200);
  EXPECT_EQ(Status("GET", "/readyz", ""), 503);  // Not ready yet, but not refused.
  EXPECT_EQ(Status("GET", "/v1/models", ""), 401);
  EXPECT_EQ(Status("GET", "/v1/models", kIngest), 401);
  EXPECT_EQ(Status("GET", "/v1/models", kAdmin), 401);
  EXPECT_EQ(Status("GET", "/v1/models", kRead), 200);
  EXPECT_EQ(Status("GET", "/metrics", kRead), 200);
  EXPECT_EQ(Status("POST", "/v1/predictions", kRead), 401);
  EXPECT_EQ(Status("POST", "/v1/predictions", kAdmin), 401);
  EXPECT_EQ(Status("POST", "/v1/predictions", kIngest), 400);  // Authorised; the body is empty.
  EXPECT_EQ(Status("POST", "/v1/models/fraud/reference/promote", kRead), 401);
  EXPECT_EQ(Status("POST", "/v1/models/fraud/reference/promote", kIngest), 401);
  EXPECT_EQ(Status("POST", "/v1/models/fraud/reference/promote", kAdmin), 409);
  // Authentication comes before the unknown-model and not-found answers.
  EXPECT_EQ(Status("GET", "/v1/models/nope/reference", kRead), 401);
  EXPECT_EQ(Status("GET", "/v1/models/nope/reference", kAdmin), 404);
  EXPECT_EQ(Status("GET", "/v1/nothing", ""), 401);
  EXPECT_EQ(Status("GET", "/v1/nothing", kRead), 404);
}

TEST_F(ServiceAuthTest, RefusalsAreCountedByScopeWithAChallenge) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/v1/predictions";
  r.authorization = "Bearer wrong";
  const HttpResponse response = service_->Handle(r);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body, "{\"error\":\"missing or wrong bearer token for ingest endpoints\"}\n");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(response.headers[0].second, "Bearer realm=\"modelmon\"");
  const std::string metrics = service_->registry().Serialize();
  EXPECT_NE(metrics.find("modelmon_auth_failures_total{scope=\"ingest\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("modelmon_http_requests_total{code=\"401\",handler=\"unauthorized\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace modelmon::server
