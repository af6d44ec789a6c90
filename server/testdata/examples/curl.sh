curl -X GET "https://api.axiom-console.com/v1/leads" \
-H "X-Axiom-API-Key: your_api_key_here" \
-H "Content-Type: application/json"
