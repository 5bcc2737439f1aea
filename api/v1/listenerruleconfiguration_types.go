package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ActionType is the type of a listener rule action.
// +kubebuilder:validation:Enum=forward;fixed-response;redirect;authenticate-cognito;authenticate-oidc;jwt-validation
type ActionType string

const (
	ActionTypeForward             ActionType = "forward"
	ActionTypeFixedResponse       ActionType = "fixed-response"
	ActionTypeRedirect            ActionType = "redirect"
	ActionTypeAuthenticateCognito ActionType = "authenticate-cognito"
	ActionTypeAuthenticateOIDC    ActionType = "authenticate-oidc"
	ActionTypeJWTValidation       ActionType = "jwt-validation"
)

// TargetGroupStickinessConfig configures stickiness of a forward action.
type TargetGroupStickinessConfig struct {
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=604800
	// +kubebuilder:default=3600
	// +optional
	DurationSeconds *int32 `json:"durationSeconds,omitempty"`
	// +kubebuilder:default=false
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// ForwardActionConfig adds stickiness to the forward action built from the route's backendRefs.
type ForwardActionConfig struct {
	// +optional
	TargetGroupStickinessConfig *TargetGroupStickinessConfig `json:"targetGroupStickinessConfig,omitempty"`
}

// RedirectActionConfig adds a query to the redirect built from the route's RequestRedirect filter.
type RedirectActionConfig struct {
	// +kubebuilder:default="#{query}"
	// +optional
	Query *string `json:"query,omitempty"`
}

// FixedResponseActionConfig answers requests directly.
type FixedResponseActionConfig struct {
	// StatusCode is a 2XX, 4XX or 5XX code.
	// +kubebuilder:validation:Minimum=200
	// +kubebuilder:validation:Maximum=599
	StatusCode int32 `json:"statusCode"`
	// +kubebuilder:validation:Enum=text/plain;text/css;text/html;application/javascript;application/json
	// +kubebuilder:default=text/plain
	// +optional
	ContentType *string `json:"contentType,omitempty"`
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	MessageBody *string `json:"messageBody,omitempty"`
}

// AuthenticateCognitoActionConditionalBehaviorEnum says what happens to unauthenticated requests.
// +kubebuilder:validation:Enum=deny;allow;authenticate
type AuthenticateCognitoActionConditionalBehaviorEnum string

// AuthenticateOidcActionConditionalBehaviorEnum says what happens to unauthenticated requests.
// +kubebuilder:validation:Enum=deny;allow;authenticate
type AuthenticateOidcActionConditionalBehaviorEnum string

// AuthenticateCognitoActionConfig authenticates users through an Amazon Cognito user pool.
type AuthenticateCognitoActionConfig struct {
	UserPoolArn      string `json:"userPoolArn"`
	UserPoolClientID string `json:"userPoolClientId"`
	UserPoolDomain   string `json:"userPoolDomain"`
	// +kubebuilder:validation:MaxProperties=10
	// +optional
	AuthenticationRequestExtraParams map[string]string `json:"authenticationRequestExtraParams,omitempty"`
	// +kubebuilder:default=authenticate
	// +optional
	OnUnauthenticatedRequest *AuthenticateCognitoActionConditionalBehaviorEnum `json:"onUnauthenticatedRequest,omitempty"`
	// +kubebuilder:default=openid
	// +optional
	Scope *string `json:"scope,omitempty"`
	// +kubebuilder:default=AWSELBAuthSessionCookie
	// +optional
	SessionCookieName *string `json:"sessionCookieName,omitempty"`
	// +kubebuilder:default=604800
	// +optional
	SessionTimeout *int64 `json:"sessionTimeout,omitempty"`
}

// Secret names a Secret in the ListenerRuleConfiguration's namespace.
type Secret struct {
	Name string `json:"name"`
}

// AuthenticateOidcActionConfig authenticates users through an OpenID Connect identity provider.
// The client ID and secret come from a Secret with keys clientID (or clientId) and clientSecret.
type AuthenticateOidcActionConfig struct {
	// +optional
	AuthenticationRequestExtraParams map[string]string `json:"authenticationRequestExtraParams,omitempty"`
	AuthorizationEndpoint            string            `json:"authorizationEndpoint"`
	// +optional
	Secret *Secret `json:"secret,omitempty"`
	Issuer string  `json:"issuer"`
	// +kubebuilder:default=authenticate
	// +optional
	OnUnauthenticatedRequest *AuthenticateOidcActionConditionalBehaviorEnum `json:"onUnauthenticatedRequest,omitempty"`
	// +kubebuilder:default=openid
	// +optional
	Scope *string `json:"scope,omitempty"`
	// +kubebuilder:default=AWSELBAuthSessionCookie
	// +optional
	SessionCookieName *string `json:"sessionCookieName,omitempty"`
	// +kubebuilder:default=604800
	// +optional
	SessionTimeout   *int64 `json:"sessionTimeout,omitempty"`
	TokenEndpoint    string `json:"tokenEndpoint"`
	UserInfoEndpoint string `json:"userInfoEndpoint"`
	// +optional
	UseExistingClientSecret *bool `json:"useExistingClientSecret,omitempty"`
}

// ClaimFormat is the format of a JWT claim.
// +kubebuilder:validation:Enum=single-string;string-array;space-separated-values
type ClaimFormat string

// JwtValidationActionAdditionalClaim is one claim a token must carry.
type JwtValidationActionAdditionalClaim struct {
	Format ClaimFormat `json:"format"`
	Name   string      `json:"name"`
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	Values []string `json:"values"`
}

// JwtValidationConfig validates bearer tokens.
type JwtValidationConfig struct {
	// +kubebuilder:validation:MaxLength=256
	JwksEndpoint string `json:"jwksEndpoint"`
	// +kubebuilder:validation:MaxLength=256
	Issuer string `json:"issuer"`
	// +optional
	AdditionalClaims []JwtValidationActionAdditionalClaim `json:"additionalClaims,omitempty"`
}

// Action is one action of a listener rule.
type Action struct {
	Type ActionType `json:"type"`
	// +optional
	ForwardConfig *ForwardActionConfig `json:"forwardConfig,omitempty"`
	// +optional
	RedirectConfig *RedirectActionConfig `json:"redirectConfig,omitempty"`
	// +optional
	FixedResponseConfig *FixedResponseActionConfig `json:"fixedResponseConfig,omitempty"`
	// +optional
	AuthenticateCognitoConfig *AuthenticateCognitoActionConfig `json:"authenticateCognitoConfig,omitempty"`
	// +optional
	AuthenticateOIDCConfig *AuthenticateOidcActionConfig `json:"authenticateOIDCConfig,omitempty"`
	// +optional
	JwtValidationConfig *JwtValidationConfig `json:"jwtValidationConfig,omitempty"`
}

// ListenerRuleConditionField is the field of a condition.
// +kubebuilder:validation:Enum=source-ip
type ListenerRuleConditionField string

// SourceIPConditionConfig matches client addresses.
type SourceIPConditionConfig struct {
	// +kubebuilder:validation:MinItems=1
	Values []string `json:"values"`
}

// ListenerRuleCondition adds a condition to the rules built from a route rule.
type ListenerRuleCondition struct {
	Field ListenerRuleConditionField `json:"field"`
	// +optional
	SourceIPConfig *SourceIPConditionConfig `json:"sourceIPConfig,omitempty"`
	// MatchIndexes are indexes into the route rule's matches; absent means every match.
	// +optional
	MatchIndexes []int `json:"matchIndexes,omitempty"`
}

// ListenerRuleConfigurationSpec holds the ALB-specific settings of the rules a route rule becomes.
type ListenerRuleConfigurationSpec struct {
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:XValidation:rule="self.filter(a, a.type in ['authenticate-cognito','authenticate-oidc','jwt-validation']).size() <= 1",message="at most one pre-routing action (authenticate-cognito, authenticate-oidc, jwt-validation)"
	// +kubebuilder:validation:XValidation:rule="self.filter(a, a.type in ['forward','fixed-response','redirect']).size() <= 1",message="at most one routing action (forward, fixed-response, redirect)"
	// +optional
	Actions []Action `json:"actions,omitempty"`
	// +optional
	Conditions []ListenerRuleCondition `json:"conditions,omitempty"`
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
}

// ListenerRuleConfigurationStatus is the observed state of a ListenerRuleConfiguration.
type ListenerRuleConfigurationStatus struct {
	// +optional
	Accepted *bool `json:"accepted,omitempty"`
	// +optional
	Message *string `json:"message,omitempty"`
	// +optional
	ObservedGeneration *int64 `json:"observedGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Accepted",type=boolean,JSONPath=`.status.accepted`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ListenerRuleConfiguration holds ALB rule settings a route rule refers to through an ExtensionRef filter.
type ListenerRuleConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ListenerRuleConfigurationSpec   `json:"spec,omitempty"`
	Status ListenerRuleConfigurationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ListenerRuleConfigurationList is a list of ListenerRuleConfiguration.
type ListenerRuleConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ListenerRuleConfiguration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ListenerRuleConfiguration{}, &ListenerRuleConfigurationList{})
}
