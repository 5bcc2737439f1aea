package testenv

var ec2Rules, acmRules []strictRule
var ec2Answers []strictAnswer
