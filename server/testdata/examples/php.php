<?php
function getContacts() {
$url = 'https://api.axiom-console.com/v1/leads';
$headers = [
'X-Axiom-API-Key: your_api_key_here',
'Content-Type: application/json'
];
$ch = curl_init();
curl_setopt($ch, CURLOPT_URL, $url);
curl_setopt($ch, CURLOPT_HTTPHEADER, $headers);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$response = curl_exec($ch);
$httpCode = curl_getinfo($ch, CURLINFO_HTTP_CODE);
curl_close($ch);
if ($httpCode == 200) {
return json_decode($response, true);
} else {
echo "Error: " . $httpCode . "\n";
echo $response;
}
}
echo json_encode(getContacts());
