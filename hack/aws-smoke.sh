#!/usr/bin/env bash
# Settles on a real (sandbox) AWS account the rules that the strict test layer in front of moto
# can only assume (docs/aws-contract.md, "Rules only a real account settles"). Not run in CI.
#
#   AWS_PROFILE=sandbox AWS_REGION=eu-west-1 hack/aws-smoke.sh
#
# It creates a VPC with two private subnets, a t3.micro instance, target groups, two internal load
# balancers and self-signed certificates, all tagged elbgateway-smoke=<run id>; prints one line
# per check (PASS, FAIL or INFO); and deletes everything it created when it exits, whatever
# happened. It costs a few cents (the instance and the load balancers run for about ten minutes).
set -euo pipefail

region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
if [[ -z "$region" ]]; then
	echo "set AWS_REGION (and credentials, e.g. AWS_PROFILE) for a sandbox account" >&2
	exit 2
fi
for tool in aws openssl; do
	command -v "$tool" >/dev/null || {
		echo "$tool is required" >&2
		exit 2
	}
done
export AWS_REGION="$region" AWS_DEFAULT_REGION="$region" AWS_PAGER=""

run_id="smoke-$(date +%Y%m%d%H%M%S)-$$"
tag_key="elbgateway-smoke"
work="$(mktemp -d)"
failures=0

# Resources to delete, in creation order.
vpc="" instance="" subnets=() security_groups=() load_balancers=() target_groups=() certificates=()

say() { printf '%-5s %s\n' "$1" "$2"; }
ec2_tags() { printf 'ResourceType=%s,Tags=[{Key=%s,Value=%s}]' "$1" "$tag_key" "$run_id"; }
elb_tags=(--tags "Key=$tag_key,Value=$run_id")

# expect_refusal CHECK CODE COMMAND...: the command must fail with AWS error CODE.
expect_refusal() {
	local check="$1" want="$2" out code
	shift 2
	if out="$("$@" 2>&1)"; then
		say FAIL "$check: AWS accepted it"
		failures=$((failures + 1))
		return
	fi
	code="$(sed -n 's/.*An error occurred (\([^)]*\)).*/\1/p' <<<"$out" | head -n1)"
	if [[ "$code" == "$want" ]]; then
		say PASS "$check: $code: ${out##*: }"
	else
		say FAIL "$check: got ${code:-no error code} (the layer answers $want): $out"
		failures=$((failures + 1))
	fi
}

# expect_success CHECK COMMAND...: the command must succeed.
expect_success() {
	local check="$1" out
	shift
	if out="$("$@" 2>&1)"; then
		say PASS "$check"
	else
		say FAIL "$check: $out"
		failures=$((failures + 1))
	fi
}

# retry COMMAND...: for deletions that wait on AWS releasing a dependency.
retry() {
	for _ in $(seq 1 30); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 10
	done
	echo "could not: $* (delete it by hand; it is tagged $tag_key=$run_id)" >&2
}

cleanup() {
	set +e
	echo "cleaning up $run_id"
	local arn id
	for arn in "${load_balancers[@]}"; do
		aws elbv2 modify-load-balancer-attributes --load-balancer-arn "$arn" \
			--attributes Key=deletion_protection.enabled,Value=false >/dev/null 2>&1
		aws elbv2 delete-load-balancer --load-balancer-arn "$arn"
	done
	if ((${#load_balancers[@]})); then
		aws elbv2 wait load-balancers-deleted --load-balancer-arns "${load_balancers[@]}"
	fi
	for arn in "${target_groups[@]}"; do
		aws elbv2 delete-target-group --target-group-arn "$arn" 2>/dev/null
	done
	for arn in "${certificates[@]}"; do
		retry aws acm delete-certificate --certificate-arn "$arn"
	done
	if [[ -n "$instance" ]]; then
		aws ec2 terminate-instances --instance-ids "$instance" >/dev/null
		aws ec2 wait instance-terminated --instance-ids "$instance"
	fi
	for id in "${security_groups[@]}"; do
		retry aws ec2 delete-security-group --group-id "$id"
	done
	for id in "${subnets[@]}"; do
		retry aws ec2 delete-subnet --subnet-id "$id"
	done
	if [[ -n "$vpc" ]]; then
		retry aws ec2 delete-vpc --vpc-id "$vpc"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "stopped: line $LINENO: $BASH_COMMAND" >&2' ERR

# certificate NAME OPENSSL-KEY-ARGS...: a self-signed certificate for NAME.example.com in
# $work/NAME.{crt,key}.
certificate() {
	local name="$1"
	shift
	openssl req -x509 "$@" -nodes -days 2 -subj "/CN=$name.example.com" \
		-keyout "$work/$name.key" -out "$work/$name.crt" 2>/dev/null
}

# The create functions below set $created and record what they created for cleanup: they run in
# this shell, never in a command substitution, so that the record survives.
created=""

import_certificate() { # NAME (an RSA 2048 key)
	certificate "$1" -newkey rsa:2048
	created="$(aws acm import-certificate --certificate "fileb://$work/$1.crt" --private-key "fileb://$work/$1.key" \
		--tags "Key=$tag_key,Value=$run_id" --query CertificateArn --output text)"
	certificates+=("$created")
}

echo "run $run_id in $region"

# --- network and an instance ------------------------------------------------------------------
read -r zone_a zone_b < <(aws ec2 describe-availability-zones --filters Name=state,Values=available \
	--query 'AvailabilityZones[0:2].ZoneName' --output text)
vpc="$(aws ec2 create-vpc --cidr-block 10.97.0.0/16 --tag-specifications "$(ec2_tags vpc)" --query Vpc.VpcId --output text)"
for zone_cidr in "$zone_a 10.97.1.0/24" "$zone_b 10.97.2.0/24"; do
	read -r zone cidr <<<"$zone_cidr"
	subnets+=("$(aws ec2 create-subnet --vpc-id "$vpc" --availability-zone "$zone" --cidr-block "$cidr" \
		--tag-specifications "$(ec2_tags subnet)" --query Subnet.SubnetId --output text)")
done
spare_group="$(aws ec2 create-security-group --group-name "$run_id" --description "elbgateway smoke test" \
	--vpc-id "$vpc" --tag-specifications "$(ec2_tags security-group)" --query GroupId --output text)"
security_groups+=("$spare_group")
ami="$(aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 \
	--query Parameter.Value --output text)"
instance="$(aws ec2 run-instances --image-id "$ami" --instance-type t3.micro --subnet-id "${subnets[0]}" \
	--tag-specifications "$(ec2_tags instance)" --query 'Instances[0].InstanceId' --output text)"

target_group() { # NAME PROTOCOL TARGET-TYPE [PORT]
	created="$(aws elbv2 create-target-group --name "$1-$$" --protocol "$2" --port "${4:-80}" --vpc-id "$vpc" \
		--target-type "$3" "${elb_tags[@]}" --query 'TargetGroups[0].TargetGroupArn' --output text)"
	target_groups+=("$created")
}

load_balancer() { # NAME TYPE
	created="$(aws elbv2 create-load-balancer --name "$1-$$" --type "$2" --scheme internal \
		--subnets "${subnets[@]}" "${elb_tags[@]}" --query 'LoadBalancers[0].LoadBalancerArn' --output text)"
	load_balancers+=("$created")
}

load_balancer es-nlb network
nlb="$created"
load_balancer es-alb application
alb="$created"

# --- checks that need no load balancer ----------------------------------------------------------
target_group es-udp UDP ip 53
udp="$created"
attrs="$(aws elbv2 describe-target-group-attributes --target-group-arn "$udp" \
	--query 'Attributes[].[Key,Value]' --output text | tr '\t' '=' | sort | tr '\n' ' ')"
say INFO "UDP ip target group attributes: $attrs"
if [[ " $attrs " == *" deregistration_delay.connection_termination.enabled=true "* ]]; then
	say PASS "UDP target group: deregistration_delay.connection_termination.enabled defaults to true"
else
	say FAIL "UDP target group: deregistration_delay.connection_termination.enabled is not true by default"
	failures=$((failures + 1))
fi

target_group es-live TCP ip
live="$created"
target_group es-gone TCP ip
gone="$created"
aws elbv2 delete-target-group --target-group-arn "$gone"
expect_refusal "DescribeTags with a deleted target group ARN" TargetGroupNotFound \
	aws elbv2 describe-tags --resource-arns "$live" "$gone"

import_certificate es-rsa
rsa="$created"
certificate es-ec -newkey ec -pkeyopt ec_paramgen_curve:P-256
expect_refusal "re-import of an RSA certificate with an EC key" ValidationException \
	aws acm import-certificate --certificate-arn "$rsa" --certificate "fileb://$work/es-ec.crt" \
	--private-key "fileb://$work/es-ec.key"

aws ec2 wait instance-running --instance-ids "$instance"
target_group es-inst TCP instance
instance_tg="$created"
expect_refusal "RegisterTargets: instance target with an AvailabilityZone" ValidationError \
	aws elbv2 register-targets --target-group-arn "$instance_tg" --targets "Id=$instance,AvailabilityZone=$zone_a"
expect_success "RegisterTargets: instance target without a zone" \
	aws elbv2 register-targets --target-group-arn "$instance_tg" --targets "Id=$instance"

target_group es-ip TCP ip
ip_tg="$created"
expect_refusal "RegisterTargets: ip target outside the VPC with a zone on an NLB group" ValidationError \
	aws elbv2 register-targets --target-group-arn "$ip_tg" --targets "Id=192.168.7.7,AvailabilityZone=$zone_a"
expect_success "RegisterTargets: ip target outside the VPC with AvailabilityZone=all" \
	aws elbv2 register-targets --target-group-arn "$ip_tg" --targets "Id=192.168.7.7,AvailabilityZone=all"
expect_refusal "RegisterTargets: IPv6 address on an IPv4 group" ValidationError \
	aws elbv2 register-targets --target-group-arn "$ip_tg" --targets "Id=2600:1f14::9,AvailabilityZone=all"

# --- checks on the load balancers ---------------------------------------------------------------
aws elbv2 wait load-balancer-available --load-balancer-arns "$nlb" "$alb"

target_group es-tcp TCP ip
tcp="$created"
expect_refusal "NLB listener forward with TargetGroupStickinessConfig Enabled=false" ValidationError \
	aws elbv2 create-listener --load-balancer-arn "$nlb" --protocol TCP --port 80 --default-actions \
	"[{\"Type\":\"forward\",\"ForwardConfig\":{\"TargetGroups\":[{\"TargetGroupArn\":\"$tcp\"}],\"TargetGroupStickinessConfig\":{\"Enabled\":false}}}]"
expect_success "NLB listener forward without TargetGroupStickinessConfig" \
	aws elbv2 create-listener --load-balancer-arn "$nlb" --protocol TCP --port 81 \
	--default-actions "Type=forward,TargetGroupArn=$tcp"

expect_refusal "SetSecurityGroups on an NLB created without security groups" ValidationError \
	aws elbv2 set-security-groups --load-balancer-arn "$nlb" --security-groups "$spare_group"

target_group es-http HTTP ip
http="$created"
import_certificate es-c0
default_cert="$created"
import_certificate es-c1
extra1="$created"
import_certificate es-c2
extra2="$created"
listener="$(aws elbv2 create-listener --load-balancer-arn "$alb" --protocol HTTPS --port 443 \
	--certificates "CertificateArn=$default_cert" --default-actions "Type=forward,TargetGroupArn=$http" \
	--query 'Listeners[0].ListenerArn' --output text)"
expect_refusal "AddListenerCertificates with two certificates" ValidationError \
	aws elbv2 add-listener-certificates --listener-arn "$listener" \
	--certificates "CertificateArn=$extra1" "CertificateArn=$extra2"
expect_success "AddListenerCertificates with one certificate" \
	aws elbv2 add-listener-certificates --listener-arn "$listener" --certificates "CertificateArn=$extra1"
expect_refusal "DeleteCertificate of a listener's additional certificate" ResourceInUseException \
	aws acm delete-certificate --certificate-arn "$extra1"

hosts='"a.example.com","b.example.com","c.example.com"'
expect_refusal "CreateRule with four host names in one condition" ValidationError \
	aws elbv2 create-rule --listener-arn "$listener" --priority 1 --actions "Type=forward,TargetGroupArn=$http" \
	--conditions "[{\"Field\":\"host-header\",\"HostHeaderConfig\":{\"Values\":[$hosts,\"d.example.com\"]}}]"
expect_success "CreateRule with three host names in one condition" \
	aws elbv2 create-rule --listener-arn "$listener" --priority 2 --actions "Type=forward,TargetGroupArn=$http" \
	--conditions "[{\"Field\":\"host-header\",\"HostHeaderConfig\":{\"Values\":[$hosts]}}]"

if ((failures)); then
	echo "$failures check(s) differ from what the strict layer assumes: update internal/testenv and docs/aws-contract.md"
	exit 1
fi
echo "every check matches the strict layer"
